/// Exit codes shared by every command (EX_USAGE comes from ArgumentParser's ValidationError).
enum ExitStatus {
    static let success: Int32 = 0
    static let failure: Int32 = 1
    static let changes: Int32 = 2
    static let usage: Int32 = 64
}
