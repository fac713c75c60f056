/// What this binary is (SPEC §15): its semantic version and the commit it was built from, for
/// `kiothc --version`, the start log and `/metrics` (`kiothc_build_info`).
public enum BuildInfo {
    /// The release this source tree will be; bumped by the release, not per commit.
    public static let version = "0.24.0"
    /// The commit the binary was built from (12 hex digits, `-dirty` when the tree had
    /// changes); nil when it was not built from a git checkout.
    public static let commit: String? = nil

    /// `kiothc 0.24.0 (3f2c1ab09d1e)`, or `(unknown commit)` for a binary not built by
    /// scripts/release: what `kiothc --version` prints and the start log's first line begins with.
    public static var line: String {
        "kiothc \(version) (\(commit ?? "unknown commit"))"
    }
}
