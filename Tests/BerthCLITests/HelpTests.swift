import Testing
import BerthTestSupport

@Suite struct HelpTests {
    @Test func placeholder() {
        #expect(Bool(true))
    }
}
