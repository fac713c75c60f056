extension ServingCatalog {
    /// The project's ping key as the slug URLs use it (configured, or generated into the data
    /// directory); nil for a project the catalog does not have. For the dashboard, which shows
    /// it only to viewers who may ping that project anyway (docs/dashboard.md, "Ping URLs").
    public func pingKey(ofProject project: String) -> String? { pingKeys[project] }
}
