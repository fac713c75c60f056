extension ServingCatalog {
    /// A project's ping key serving now (configured or generated), for the complete slug URLs
    /// the dashboard shows to viewers allowed to ping (issue 26). A secret: never log it.
    public func pingKey(of project: String) -> String? { pingKeys[project] }
}
