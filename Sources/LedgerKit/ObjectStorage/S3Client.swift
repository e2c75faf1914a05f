import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The S3 requests backups need, signed with `SignatureV4`, over the
/// toolchain's URLSession (no package to build, and it streams uploads from a
/// file and downloads to a file, so memory stays bounded).
///
/// Not yet behind the backup commands: see the session note of issue 13.
final class S3Client: Sendable {
    let configuration: S3Configuration
    private let session: URLSession

    /// An object in a listing.
    struct Object: Sendable, Equatable {
        let key: String
        let size: Int64
    }

    init(configuration: S3Configuration) {
        self.configuration = configuration
        let settings = URLSessionConfiguration.ephemeral
        settings.timeoutIntervalForRequest = 60
        settings.httpMaximumConnectionsPerHost = 4
        session = URLSession(configuration: settings)
    }

    /// The URL and `Host` header of `key` in `bucket`, path-style or virtual-hosted.
    func address(bucket: String, key: String, query: String = "") throws -> (url: URL, host: String, path: String) {
        let endpoint = configuration.endpoint
        guard let scheme = endpoint.scheme, let endpointHost = endpoint.host?.lowercased() else {
            throw ObjectStorageError.badConfiguration("the endpoint \(endpoint) has no host")
        }
        let defaultPort = scheme == "https" ? 443 : 80
        let port = endpoint.port.flatMap { $0 == defaultPort ? nil : $0 }
        let host = (configuration.pathStyle ? endpointHost : "\(bucket).\(endpointHost)") + (port.map { ":\($0)" } ?? "")
        let base = endpoint.path.hasSuffix("/") ? String(endpoint.path.dropLast()) : endpoint.path
        let path = SignatureV4.encodePath(base + (configuration.pathStyle ? "/\(bucket)" : "") + "/\(key)")
        guard let url = URL(string: "\(scheme)://\(host)\(path)" + (query.isEmpty ? "" : "?\(query)")) else {
            throw ObjectStorageError.badConfiguration("no URL can name the object \(key)")
        }
        return (url, host, path)
    }

    /// Sends one signed request and returns the answer and its body (for small
    /// answers: listings, errors, a snapshot's head).
    func send(_ method: String, bucket: String, key: String = "", query: [(String, String?)] = [],
              headers: [(name: String, value: String)] = [], body: Data = Data()) async throws -> (HTTPURLResponse, Data) {
        let encodedQuery = SignatureV4.encodeQuery(query)
        let (url, host, path) = try address(bucket: bucket, key: key, query: encodedQuery)
        var request = URLRequest(url: url)
        request.httpMethod = method
        let payload = SignatureV4.Payload.signed(sha256: SignatureV4.Payload.sha256Hex(of: body))
        let signer = SignatureV4(credentials: configuration.credentials, region: configuration.region)
        for (name, value) in headers + signer.sign(method: method, host: host, path: path, query: encodedQuery, headers: headers,
                                                    payload: payload, at: Date()) {
            request.setValue(value, forHTTPHeaderField: name)
        }
        let (data, response) = method == "PUT" || method == "POST"
            ? try await session.upload(for: request, from: body)
            : try await session.data(for: request)
        guard let http = response as? HTTPURLResponse else { throw S3Failure.notHTTP }
        return (http, data)
    }

    /// Sends a request that must succeed (2xx); S3's error otherwise.
    @discardableResult
    func expect(_ method: String, bucket: String, key: String = "", query: [(String, String?)] = [],
                headers: [(name: String, value: String)] = [], body: Data = Data()) async throws -> (HTTPURLResponse, Data) {
        let (response, data) = try await send(method, bucket: bucket, key: key, query: query, headers: headers, body: body)
        guard (200..<300).contains(response.statusCode) else {
            throw S3Failure.status(response.statusCode, code: S3ErrorDocument.code(in: data), request: "\(method) \(key.isEmpty ? bucket : key)")
        }
        return (response, data)
    }

    /// Every object under `prefix`, following continuation tokens (1,000 a page).
    func list(bucket: String, prefix: String) async throws -> [Object] {
        var objects: [Object] = []
        var token: String?
        repeat {
            var query: [(String, String?)] = [("list-type", "2"), ("prefix", prefix)]
            if let token { query.append(("continuation-token", token)) }
            let (_, data) = try await expect("GET", bucket: bucket, query: query)
            let page = ListingParser.parse(data)
            objects += page.objects
            token = page.truncated ? page.nextToken : nil
            if page.truncated && token == nil { throw S3Failure.badListing }
        } while token != nil
        return objects
    }
}

/// What went wrong with a request.
enum S3Failure: Error, Equatable {
    case notHTTP
    case status(Int, code: String?, request: String)
    case badListing
}

/// S3's `<Error><Code>…</Code>` document.
enum S3ErrorDocument {
    static func code(in data: Data) -> String? {
        let text = String(decoding: data, as: UTF8.self)
        guard let start = text.range(of: "<Code>"), let end = text.range(of: "</Code>", range: start.upperBound..<text.endIndex) else {
            return nil
        }
        return String(text[start.upperBound..<end.lowerBound])
    }
}

/// A ListObjectsV2 answer: its keys and sizes, and where the next page
/// starts. The document is flat and small (a page is 1,000 keys), so it is
/// read by its tags, with XML's five entities and numeric references undone.
struct ListingParser {
    private(set) var objects: [S3Client.Object] = []
    private(set) var truncated = false
    private(set) var nextToken: String?

    static func parse(_ data: Data) -> ListingParser {
        let text = String(decoding: data, as: UTF8.self)
        var listing = ListingParser()
        var rest = text[...]
        while let start = rest.range(of: "<Contents>"), let end = rest.range(of: "</Contents>", range: start.upperBound..<rest.endIndex) {
            let block = rest[start.upperBound..<end.lowerBound]
            if let key = element("Key", in: block) {
                listing.objects.append(S3Client.Object(key: key, size: element("Size", in: block).flatMap { Int64($0) } ?? 0))
            }
            rest = rest[end.upperBound...]
        }
        listing.truncated = element("IsTruncated", in: text[...]) == "true"
        listing.nextToken = element("NextContinuationToken", in: text[...])
        return listing
    }

    /// The text of the first `<name>…</name>` in `text`, unescaped.
    static func element(_ name: String, in text: Substring) -> String? {
        guard let start = text.range(of: "<\(name)>"), let end = text.range(of: "</\(name)>", range: start.upperBound..<text.endIndex) else {
            return nil
        }
        return unescape(String(text[start.upperBound..<end.lowerBound]))
    }

    static func unescape(_ text: String) -> String {
        guard text.contains("&") else { return text }
        var out = ""
        var rest = text[...]
        while let amp = rest.firstIndex(of: "&") {
            out += rest[..<amp]
            guard let semi = rest[amp...].firstIndex(of: ";"), rest.distance(from: amp, to: semi) <= 10 else {
                out += "&"
                rest = rest[rest.index(after: amp)...]
                continue
            }
            let entity = rest[rest.index(after: amp)..<semi]
            switch entity {
            case "amp": out += "&"
            case "lt": out += "<"
            case "gt": out += ">"
            case "quot": out += "\""
            case "apos": out += "'"
            default:
                let number = entity.hasPrefix("#x") ? UInt32(entity.dropFirst(2), radix: 16)
                    : entity.hasPrefix("#") ? UInt32(entity.dropFirst()) : nil
                if let scalar = number.flatMap(Unicode.Scalar.init) { out.unicodeScalars.append(scalar) } else { out += "&\(entity);" }
            }
            rest = rest[rest.index(after: semi)...]
        }
        return out + rest
    }
}
