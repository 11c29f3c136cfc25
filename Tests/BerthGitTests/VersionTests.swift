import Testing
import BerthGit

@Suite struct VersionTests {
    @Test func linksLibgit2() {
        #expect(libgit2Version().hasPrefix("1."))
    }
}
