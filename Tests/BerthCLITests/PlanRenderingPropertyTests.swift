import Testing
import BerthCore
import BerthTestSupport
@testable import berth

/// What people and pull requests read is as deterministic as the JSON: the same random
/// world (BerthTestSupport's `RandomWorld`, seeded), planned twice and with every input
/// collection shuffled, renders to the same bytes in text and markdown, and no secret leaks.
@Suite struct PlanRenderingPropertyTests {
    static let seeds: [UInt64] = Array(1...200)

    static func rendered(_ world: RandomWorld) throws -> (text: String, markdown: String) {
        let plan = try Planner.plan(desired: world.desired, observed: world.observed, options: world.options)
        return (PlanRendering.text(plan), PlanRendering.markdown(plan))
    }

    @Test(arguments: seeds) func sameInputInAnyOrderGivesByteIdenticalTextAndMarkdown(seed: UInt64) throws {
        let world = RandomWorld(seed: seed)
        let first = try Self.rendered(world)
        let second = try Self.rendered(world)
        let third = try Self.rendered(world.shuffled(seed: seed))
        #expect(Array(first.text.utf8) == Array(second.text.utf8), "seed \(seed)")
        #expect(Array(first.markdown.utf8) == Array(second.markdown.utf8), "seed \(seed)")
        #expect(Array(first.text.utf8) == Array(third.text.utf8), "seed \(seed)")
        #expect(Array(first.markdown.utf8) == Array(third.markdown.utf8), "seed \(seed)")
        #expect(!first.text.contains("hunter") && !first.markdown.contains("hunter"), "seed \(seed): a secret leaked")
    }
}
