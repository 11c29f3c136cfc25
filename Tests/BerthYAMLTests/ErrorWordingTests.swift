import Testing
import BerthYAML

/// libyaml's syntax errors in Berth's words (`YAMLErrorWording`): the likely cause, at the
/// place the fix goes. Each input is parsed by the real libyaml.
@Suite struct ErrorWordingTests {
    static let tab = "a tab in the indentation: YAML indents with spaces only; replace the tab with spaces"

    @Test func aTabThatStartsTheIndentation() {
        #expect(describe(parse("a:\n\tb: 1\n").errors) == ["scanner 2:1 (2:1) \(Self.tab)"])
    }

    @Test func aTabAfterSpacesInTheIndentation() {
        #expect(describe(parse("spec:\n  image: x\n  \treplicas: 2\n").errors) == ["scanner 3:3 (2:10) \(Self.tab)"])
    }

    @Test func aLineIndentedDeeperThanItsSiblingKeyWithAValue() {
        let r = parse("metadata:\n  name: y\n   labels: {}\n")
        #expect(describe(r.errors) == [
            "scanner 3:4 this line is indented by 3 spaces, deeper than name: on line 2 (2), so YAML reads it as more of name's value; line it up with its siblings (2 spaces)"
        ])
    }

    @Test func aLineThatLinesUpWithNoKeyAbove() {
        let r = parse("kind: Service\nspec:\n    image: x\n  replicas: 2\n")
        #expect(describe(r.errors) == [
            "parser 4:3 (1:1) this line is indented by 2 spaces, which lines up with no key above it: line 3 is indented by 4, the mapping from line 1 by 0; line it up with its siblings"
        ])
    }

    @Test func aKeyWithoutAColonBeforeAnotherKey() {
        // libyaml reads `image x replicas` as one value and stops at the next `:`.
        let r = parse("spec:\n  image x\n  replicas: 2\n")
        #expect(describe(r.errors) == ["scanner 2:8 a key without ':' after it: write image: x"])
    }

    @Test func aListItemAmongKeys() {
        let r = parse("a: 1\n- b\n")
        #expect(describe(r.errors) == [
            "parser 2:1 (1:1) a list item among the keys of the mapping that starts on line 1: give it a key, or indent it under one"
        ])
    }

    @Test func aListItemIndentedOffItsList() {
        let r = parse("ports:\n  - containerPort: 80\n   - containerPort: 81\n")
        #expect(describe(r.errors) == [
            "parser 3:4 (2:3) this line is indented by 3 spaces, but the items of its list (from line 2) are indented by 2; line it up with its siblings"
        ])
    }

    @Test func anUnclosedQuoteIsReportedWhereItOpens() {
        let r = parse("a: \"open\nb: 2\n")
        #expect(describe(r.errors) == ["scanner 1:4 (1:4) a quoted value that never ends: the \" opened here has no closing \""])
    }

    @Test func anUnclosedFlowListIsReportedWhereItOpens() {
        let r = parse("a: [x, y\nb: 2\n")
        #expect(describe(r.errors) == ["parser 1:4 (1:4) the [ opened here is not closed: add ] at its end, and a ',' between its items"])
    }

    @Test func aValueStartingWithAReservedCharacter() {
        let r = parse("a: 1\nb: @x\n")
        #expect(describe(r.errors) == ["scanner 2:4 (2:4) a value cannot start with @: put the value in quotes"])
    }

    @Test func whatNoRuleExplainsKeepsLibyamlsWords() {
        let r = parse("a: 1\n---\nb: 2\n---\nc: [\n")
        #expect(describe(r.errors) == ["parser 6:1 (6:1) did not find expected node content (while parsing a flow node)"])
    }
}
