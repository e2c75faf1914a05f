import Foundation

/// When this machine last wrote each client's status record, kept on this
/// machine (`MachineNotes` in `fleet-records/`, one a client location):
/// the record's `updated_at`. A record this machine signed and someone later
/// put back in the location (an older one: a damaged client's clean record
/// of last week) passes its signature; it does not pass this (`FleetReport.add`).
enum WrittenRecords {
    private static let notes = MachineNotes(name: "fleet-records")

    /// Remembers that the record in `location` (`FleetStorage.clientLocation`) was written with `updatedAt`.
    static func remember(_ location: String, updatedAt: String) {
        notes.write(updatedAt, for: StoreRegistry.key(of: location))
    }

    /// The `updated_at` of the record this machine last wrote in `location`, nil when none.
    static func lastWritten(in location: String) -> String? {
        notes.read(StoreRegistry.key(of: location)).flatMap { Timestamp.parse($0) == nil ? nil : $0 }
    }
}
