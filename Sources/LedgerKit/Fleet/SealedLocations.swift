import Foundation

/// The client locations this machine has written a sealed status record in
/// (docs/fleet.md), kept on this machine: `$XDG_CONFIG_HOME/ledger/sealed-locations`
/// (else `~/.config/ledger/sealed-locations`), one location a line, mode 0600.
/// Every other sign that a record must keep no words of the books lies in the
/// location (its encrypted snapshots, its `.ledger-recipients`, the record's own
/// `sealed`), which whoever can write it may hide; this one it cannot.
enum SealedLocations {
    private static let list = MachineList(name: "sealed-locations")

    /// Whether this machine sealed a record in `location` before, however
    /// either time spelled it (relative or full, with `.` or `..`; lines of
    /// earlier versions kept the spelling of the command line).
    static func contains(_ location: String) -> Bool {
        let lines = list.lines()
        return lines.contains(StoreRegistry.key(of: location)) || lines.contains(location)
    }

    /// Remembers that a sealed record was written in `location` (a client's
    /// folder or prefix, or a fleet's, whose clients' records are then all sealed).
    static func remember(_ location: String) { list.append(StoreRegistry.key(of: location)) }
}
