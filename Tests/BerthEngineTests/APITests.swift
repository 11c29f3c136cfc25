import BerthCore
import BerthEngine
import BerthNet
import BerthTestSupport
import Foundation
import Testing

@Suite struct APITests {
    func router(token: String?) async -> (APIRouter, ReconcileLoop) {
        let source = ScriptedSource()
        source.set(LoopFx.desired([LoopFx.spec("web")], commit: "c1"))
        let loop = LoopFx.loop(source: source, runtime: FakeRuntime(state: .none(project: "shop")))
        await loop.syncOnce()
        return (APIRouter(loop: loop, journal: nil, token: token), loop)
    }

    @Test func writesAreDisabledWithoutAToken() async {
        let (router, loop) = await router(token: nil)
        let r = await router.handle(APIRequest(method: "POST", uri: "/api/v1/sync", headers: [("Authorization", "Bearer x")]))
        #expect(r.status == 403)
        #expect(r.body == "{\"error\":\"write endpoints are disabled: no API token is configured; start berth watch with BERTH_API_TOKEN set, then send `Authorization: Bearer <token>`\",\"formatVersion\":1}\n")
        #expect(await loop.syncs == 1)
    }

    @Test func writesNeedTheRightBearerToken() async {
        let (router, _) = await router(token: "s3cret")
        let none = await router.handle(APIRequest(method: "POST", uri: "/api/v1/sync"))
        #expect(none.status == 401)
        #expect(none.headers["WWW-Authenticate"] == "Bearer realm=\"berth\"")
        let wrong = await router.handle(APIRequest(method: "POST", uri: "/api/v1/sync", headers: [("authorization", "Bearer s3cre")]))
        #expect(wrong.status == 401)
        #expect(wrong.body.contains("the bearer token does not match BERTH_API_TOKEN"))
        let right = await router.handle(APIRequest(method: "POST", uri: "/api/v1/sync", headers: [("Authorization", "Bearer s3cret")]))
        #expect(right.status == 202)
        #expect(right.body == "{\"accepted\":true,\"formatVersion\":1,\"trigger\":\"manual\"}\n")
    }

    @Test func readsAndRouting() async {
        let (router, _) = await router(token: nil)
        let health = await router.handle(APIRequest(method: "GET", uri: "/healthz"))
        #expect(health == APIResponse(status: 200, contentType: "text/plain; charset=utf-8", body: "ok\n"))
        let metrics = await router.handle(APIRequest(method: "GET", uri: "/metrics"))
        #expect(metrics.contentType == "text/plain; version=0.0.4; charset=utf-8")
        #expect(metrics.body.contains("berth_syncs_total{project=\"shop\",result=\"succeeded\"} 1\n"))
        #expect(metrics.body.contains("berth_last_applied_commit{project=\"shop\",commit=\"c1\"} 1\n"))
        #expect(metrics.body.contains("berth_services{project=\"shop\",health=\"Healthy\"} 1\n"))
        let status = await router.handle(APIRequest(method: "GET", uri: "/api/v1/status"))
        #expect(status.status == 200)
        #expect(status.body.contains("\"lastAppliedCommit\" : \"c1\""))
        let plan = await router.handle(APIRequest(method: "GET", uri: "/api/v1/plan"))
        #expect(plan.status == 200)
        #expect(plan.body.contains("\"steps\" : [\n\n  ]"))
        let journal = await router.handle(APIRequest(method: "GET", uri: "/api/v1/journal"))
        #expect(journal.status == 503)
        let wrongMethod = await router.handle(APIRequest(method: "GET", uri: "/api/v1/sync"))
        #expect(wrongMethod.status == 405)
        #expect(wrongMethod.headers["Allow"] == "POST")
        let missing = await router.handle(APIRequest(method: "GET", uri: "/api/v2/status"))
        #expect(missing.status == 404)
    }
}
