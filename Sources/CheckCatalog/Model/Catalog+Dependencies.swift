// TEMPORARY (lead): replaced by the config helper's Catalog.dependencies(of:) on merge.
extension Catalog {
    public func dependencies(of id: CheckDefinition.ID) -> [CheckDefinition.ID] {
        var seen: Set<CheckDefinition.ID> = [id]
        var order: [CheckDefinition.ID] = []
        var queue = check(id)?.dependsOn ?? []
        while !queue.isEmpty {
            let next = queue.removeFirst()
            guard seen.insert(next).inserted else { continue }
            order.append(next)
            queue += check(next)?.dependsOn ?? []
        }
        return order
    }
}
