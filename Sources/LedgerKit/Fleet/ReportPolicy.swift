import Foundation

/// The times and limits the fleet report judges each client by (docs/fleet-report.md).
public struct ReportPolicy: Sendable, Equatable {
    /// How often each client is verified and backed up: the fleet's schedule (a night).
    public var every: TimeInterval = 86_400
    /// How late a step may be before it counts as missed.
    public var grace: TimeInterval = 6 * 3_600
    /// How often each client should be proven restorable: a drill takes one client in seven a night.
    public var drillEvery: TimeInterval = 7 * 86_400
    /// Growth over seven days above this fraction is a concern (0.25: a quarter).
    public var growthLimit: Double = 0.25
    /// Free pages above this fraction of the file are a concern.
    public var freePageLimit: Double = 0.25
    /// Files smaller than this are never judged on growth or free pages.
    public var sizeFloor: Int64 = 1 << 20

    /// The default thresholds.
    public init() {}
}
