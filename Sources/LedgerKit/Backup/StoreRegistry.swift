import Foundation

/// Turns what a user wrote into the `ByteStore` it names (as restic's
/// internal/backend/location/registry.go): `s3://BUCKET/PREFIX` is object
/// storage (`S3Store`), anything else a folder (`FolderStore`). The one place
/// that knows every kind of store.
public enum StoreRegistry {
    /// The location `text` names as what this machine keeps of it is keyed by
    /// (`SignedSnapshots`, the fleet's roster copy and written records): a
    /// folder's absolute path, or the URL without a trailing `/`.
    static func key(of text: String) -> String {
        if text.hasPrefix("s3://") { return text.hasSuffix("/") ? String(text.dropLast()) : text }
        return URL(fileURLWithPath: text).standardizedFileURL.path
    }

    /// The store `text` names.
    /// - Parameter environment: where object storage's configuration comes
    ///   from (docs/snapshots.md: the AWS CLI's variables and files).
    public static func open(_ text: String, environment: [String: String] = ProcessInfo.processInfo.environment)
        throws -> any ByteStore
    {
        if let location = try S3Location(text) {
            return S3Store(location, configuration: try S3Configuration.resolve(environment: environment))
        }
        return FolderStore(text)
    }

    /// The store holding the object `path` names (`s3://BUCKET/KEY`, or a
    /// file's path), and the object's name in it.
    public static func holder(of path: String, environment: [String: String] = ProcessInfo.processInfo.environment)
        throws -> (store: any ByteStore, name: String)
    {
        if let location = try S3Location(path) {
            let configuration = try S3Configuration.resolve(environment: environment)
            return (S3Store(location.parent, configuration: configuration), location.name)
        }
        let url = URL(fileURLWithPath: path)
        return (FolderStore(url.deletingLastPathComponent().path), url.lastPathComponent)
    }
}
