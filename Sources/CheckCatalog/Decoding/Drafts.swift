import Foundation
/// What one file declares, decoded but not yet checked against the other files.
struct FileDraft: Sendable {
    var path: String
    var projects: [ProjectDraft] = []
    /// The file's `project:`: the default project of its checks.
    var project: Reference?
    var checks: [CheckDraft] = []
}

/// A name that refers to something declared elsewhere, with where it was written.
struct Reference: Sendable {
    var name: String
    var location: Diagnostic.Location
}

struct ProjectDraft: Sendable {
    var project: Project
    var location: Diagnostic.Location
    /// Channel names used by the project's defaults, to be checked against its channels.
    var defaultChannelReferences: [Reference] = []
    /// `maintenance:`, for every check of the project.
    var maintenance: [WindowDraft] = []
}

/// A check's own settings; nil means "not set here", so project defaults can fill it.
struct CheckDraft: Sendable {
    var key: String
    var location: Diagnostic.Location
    var project: Reference?
    var name: String?
    var timeout: Int?
    var schedule: CheckDefinition.Expectation?
    var tz: String?
    var grace: Int?
    var tags: [String]?
    var desc: String?
    var methods: CheckDefinition.Methods?
    var manualResume: Bool?
    var paused: Bool?
    var channels: ChannelSelection?
    var channelReferences: [Reference] = []
    /// `uuid:` and where it is written (for the conflict of two checks pinning one UUID).
    var uuid: (value: UUID, location: Diagnostic.Location)?
    var slug: String?
    /// `maintenance:`, added to its project's windows.
    var maintenance: [WindowDraft] = []
    /// `depends_on:`, resolved against every file's checks by `CatalogBuilder`.
    var dependsOn: [Dependency] = []
}
