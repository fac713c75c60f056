import Foundation

/// Check UUIDs to positions (a check's place in its catalog): the ping path's table by UUID
/// and a first start's check that no UUID is handed out twice.
///
/// One array of slots, each holding a UUID and its position, with open addressing: a UUID's
/// slot is found from its own bits, mixed by multiplications, where `Dictionary` hashes
/// the 16 bytes with SipHash and keeps keys and values in separate arrays (two cache misses
/// per insert instead of one). A million inserts were most of a fresh start's serving catalog.
/// The UUIDs come from the registry (random, or pinned in trusted config), so a table that
/// hashes against chosen keys is not needed here.
public struct UUIDIndex: Sendable {
    private struct Slot {
        var high: UInt64 = 0
        var low: UInt64 = 0
        /// The position plus one; 0 for an empty slot.
        var stored = 0
    }

    private var slots: [Slot]
    public private(set) var count = 0

    /// Room for `minimumCapacity` UUIDs before the table grows.
    public init(minimumCapacity: Int = 0) {
        slots = [Slot](repeating: Slot(), count: Self.slotCount(for: minimumCapacity))
    }

    /// At most half the slots full, so a probe ends after one or two slots.
    private static func slotCount(for capacity: Int) -> Int {
        var count = 8
        while count < 2 * capacity { count *= 2 }
        return count
    }

    /// The position of `uuid`, nil when it is not in the table.
    public func position(of uuid: UUID) -> Int? {
        let (high, low) = Self.halves(uuid)
        let mask = slots.count - 1
        return slots.withUnsafeBufferPointer { slots in
            var index = Self.start(high, low, mask: mask)
            while slots[index].stored != 0 {
                if slots[index].high == high && slots[index].low == low { return slots[index].stored - 1 }
                index = (index + 1) & mask
            }
            return nil
        }
    }

    /// Adds `uuid` at `position` unless it is already in the table.
    /// - Returns: nil when added; the position it already had otherwise (the table keeps that).
    @discardableResult
    public mutating func insert(_ uuid: UUID, at position: Int) -> Int? {
        precondition(position >= 0, "a position is an index, not negative")
        if 2 * (count + 1) > slots.count { grow() }
        let (high, low) = Self.halves(uuid)
        let mask = slots.count - 1
        let existing = slots.withUnsafeMutableBufferPointer { slots -> Int? in
            var index = Self.start(high, low, mask: mask)
            while slots[index].stored != 0 {
                if slots[index].high == high && slots[index].low == low { return slots[index].stored - 1 }
                index = (index + 1) & mask
            }
            slots[index] = Slot(high: high, low: low, stored: position + 1)
            return nil
        }
        if existing == nil { count += 1 }
        return existing
    }

    private mutating func grow() {
        let old = slots
        slots = [Slot](repeating: Slot(), count: old.count * 2)
        let mask = slots.count - 1
        slots.withUnsafeMutableBufferPointer { slots in
            for slot in old where slot.stored != 0 {
                var index = Self.start(slot.high, slot.low, mask: mask)
                while slots[index].stored != 0 { index = (index + 1) & mask }
                slots[index] = slot
            }
        }
    }

    private static func halves(_ uuid: UUID) -> (UInt64, UInt64) {
        withUnsafeBytes(of: uuid.uuid) { ($0.loadUnaligned(as: UInt64.self), $0.loadUnaligned(fromByteOffset: 8, as: UInt64.self)) }
    }

    /// The first slot to try: both halves mixed (pinned UUIDs may differ in a few bits only),
    /// and the top bits of the mix taken (`mask + 1` is a power of two).
    private static func start(_ high: UInt64, _ low: UInt64, mask: Int) -> Int {
        let mixed = (high ^ (low &* 0x9E37_79B9_7F4A_7C15)) &* 0xBF58_476D_1CE4_E5B9
        return Int(truncatingIfNeeded: mixed.multipliedFullWidth(by: UInt64(mask + 1)).high)
    }
}
