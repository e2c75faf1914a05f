import Foundation

/// The newest snapshot this machine signed of each company file in each
/// location, kept on this machine (`MachineNotes` in `signed-snapshots/`, one
/// a location and stem): its `created_at`, name, company and
/// `company_created_at`, tab-separated. Whoever can write the location can
/// remove every snapshot this machine took there and put one of their own in
/// their place; restore then still knows this machine took some (`Restorer.choose`).
enum SignedSnapshots {
    /// What is kept of the newest snapshot signed here.
    struct Newest: Equatable {
        var createdAt: String
        var name: String
        var company: ManifestCompany
    }

    private static let notes = MachineNotes(name: "signed-snapshots")

    /// The note's key: the location and the stem.
    private static func key(_ location: String, stem: String) -> String {
        StoreRegistry.key(of: location) + "\t" + stem
    }

    /// Remembers `snapshot`, just published in `location`, when this machine signed it.
    static func remember(_ snapshot: Snapshot, in location: String) {
        guard let manifest = snapshot.manifest, manifest.hmac != nil else { return }
        let fields = [
            manifest.createdAt, URL(fileURLWithPath: snapshot.path).lastPathComponent, manifest.company ?? "",
            manifest.companyCreatedAt ?? "",
        ]
        guard !fields.contains(where: { $0.contains("\t") || $0.contains("\n") }) else { return }
        notes.write(fields.joined(separator: "\t"), for: key(location, stem: snapshot.stem))
    }

    /// The newest snapshot of `stem` this machine signed in `location`, nil when none is known.
    static func newest(in location: String, stem: String) -> Newest? {
        guard
            let fields = notes.read(key(location, stem: stem))?.split(separator: "\t", omittingEmptySubsequences: false)
                .map(String.init), fields.count == 4, Timestamp.parse(fields[0]) != nil
        else { return nil }
        return Newest(
            createdAt: fields[0], name: fields[1],
            company: ManifestCompany(name: fields[2], createdAt: fields[3].isEmpty ? nil : fields[3]))
    }
}
