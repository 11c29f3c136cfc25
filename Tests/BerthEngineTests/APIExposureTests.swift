import BerthCore
import BerthEngine
import BerthNet
import BerthTestSupport
import Foundation
import Testing

/// Reads on an address other than loopback need the token, unless `--public-read` (issue
/// 18, finding 7).
@Suite struct APIExposureTests {
    @Test func loopbackIsDecidedFromTheListenHost() {
        for host in ["127.0.0.1", "127.1.2.3", "localhost", "LOCALHOST", "::1", "0:0:0:0:0:0:0:1"] {
            #expect(APIExposure.isLoopback(host), "\(host)")
        }
        for host in ["0.0.0.0", "::", "10.0.0.5", "127.0.0.256", "127.0.0", "127.0.0.1.example.com", "128.0.0.1", "localhost.example.com", "", "127.00.0.1"] {
            #expect(!APIExposure.isLoopback(host), "\(host)")
        }
        #expect(APIExposure(host: "127.0.0.1", publicRead: false) == .loopback)
        #expect(APIExposure(host: "0.0.0.0", publicRead: false) == .tokenReads)
        #expect(APIExposure(host: "0.0.0.0", publicRead: true) == .publicReads)
        #expect(APIExposure.refusal(listen: "127.0.0.1:7420", host: "127.0.0.1", publicRead: false, tokenSet: false) == nil)
        #expect(APIExposure.refusal(listen: "0.0.0.0:7420", host: "0.0.0.0", publicRead: true, tokenSet: false) == nil)
        #expect(APIExposure.refusal(listen: "0.0.0.0:7420", host: "0.0.0.0", publicRead: false, tokenSet: true) == nil)
        #expect(APIExposure.refusal(listen: "0.0.0.0:7420", host: "0.0.0.0", publicRead: false, tokenSet: false) != nil)
    }

    @Test func readsNeedTheTokenWhenTheRouterSaysSo() async {
        let source = ScriptedSource()
        source.set(LoopFx.desired([LoopFx.spec("web")], commit: "c1"))
        let loop = LoopFx.loop(source: source, runtime: FakeRuntime(state: .none(project: "shop")))
        await loop.syncOnce()
        let router = APIRouter(loop: loop, journal: nil, token: "s3cret", readsNeedToken: true)
        for path in ["/metrics", "/api/v1/status", "/api/v1/plan", "/api/v1/journal"] {
            let r = await router.handle(APIRequest(method: "GET", uri: path))
            #expect(r.status == 401, "\(path)")
            #expect(r.headers["WWW-Authenticate"] == "Bearer realm=\"berth\"")
        }
        let health = await router.handle(APIRequest(method: "GET", uri: "/healthz"))
        #expect(health.status == 200)
        let status = await router.handle(APIRequest(method: "GET", uri: "/api/v1/status", headers: [("Authorization", "Bearer s3cret")]))
        #expect(status.status == 200)
        let open = APIRouter(loop: loop, journal: nil, token: "s3cret")
        #expect(await open.handle(APIRequest(method: "GET", uri: "/api/v1/status")).status == 200)
    }
}
