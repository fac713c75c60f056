/// Stable diagnostic codes (kebab-case); tools match on these, so never rename one.
public enum Code: String, Sendable, Hashable, CaseIterable {
    // The file itself
    case unreadableFile = "unreadable-file"
    case yamlSyntax = "yaml-syntax"
    case duplicateKey = "duplicate-key"
    case aliasNotAllowed = "alias-not-allowed"
    case multipleDocuments = "multiple-documents"
    case unsupportedTag = "unsupported-tag"
    case tooDeep = "too-deep"
    case fileTooLarge = "file-too-large"
    case complexKey = "complex-key"
    case tooManyProblems = "too-many-problems"
    // The schema
    case unknownKey = "unknown-key"
    case typeMismatch = "type-mismatch"
    case missingKey = "missing-key"
    case invalidId = "invalid-id"
    case invalidValue = "invalid-value"
    case invalidDuration = "invalid-duration"
    case outOfRange = "out-of-range"
    case invalidSchedule = "invalid-schedule"
    case unknownTimezone = "unknown-timezone"
    case conflictingKeys = "conflicting-keys"
    case missingSecret = "missing-secret"
    // Across files
    case duplicateCheck = "duplicate-check"
    case duplicateProject = "duplicate-project"
    case duplicatePingKey = "duplicate-ping-key"
    case unknownChannel = "unknown-channel"
    case unknownProject = "unknown-project"
    case slugConflict = "slug-conflict"
    case emptySlug = "empty-slug"
}
