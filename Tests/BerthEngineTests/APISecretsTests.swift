import BerthCore
import BerthEngine
import BerthNet
import BerthTestSupport
import Foundation
import Testing

/// The plan the API serves masks credentials by value, as `berth plan` does (issue 18,
/// finding 7: `/api/v1/plan` showed `DATABASE_URL=postgres://u:pw@db` in clear).
@Suite struct APISecretsTests {
    @Test func planEndpointMasksCredentialLookingValues() async {
        var spec = LoopFx.spec("api")
        spec.env = ["DATABASE_URL": "postgres://u:pw-4711@db/shop", "SENTRY_DSN": "https://f00dcafe1234@o1.ingest.sentry.io/2", "MODE": "live"]
        let source = ScriptedSource()
        source.set(LoopFx.desired([spec], commit: "c1"))
        let runtime = FakeRuntime(state: .none(project: "shop"))
        let loop = LoopFx.loop(source: source, runtime: runtime)
        await loop.syncOnce()
        // What runs goes away: the plan the API shows is a create, with the env.
        for instance in await runtime.cluster.state.service("api")?.instances ?? [] {
            try? await runtime.removeInstance(id: instance.id, grace: .zero)
        }
        let router = APIRouter(loop: loop, journal: nil, token: nil)
        let plan = await router.handle(APIRequest(method: "GET", uri: "/api/v1/plan"))
        #expect(plan.status == 200)
        #expect(plan.body.contains("\"DATABASE_URL\" : \"(sensitive)\""))
        #expect(plan.body.contains("\"SENTRY_DSN\" : \"(sensitive)\""))
        #expect(plan.body.contains("\"MODE\" : \"live\""))
        #expect(!plan.body.contains("pw-4711") && !plan.body.contains("f00dcafe"))
    }
}
