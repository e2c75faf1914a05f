import Crypto
import Foundation

/// AWS Signature Version 4 for S3 requests (docs.aws.amazon.com, "Signature
/// Version 4 signing process"), written on swift-crypto's SHA-256 and
/// HMAC-SHA256: there is no AWS SDK for Swift among the packages we build on.
/// Checked against botocore's signatures for a table of requests
/// (`Scripts/make-sigv4-fixture.py`).
struct SignatureV4: Sendable {
    struct Credentials: Sendable, Equatable {
        var accessKey: String
        var secretKey: String
        /// Temporary credentials' token (`AWS_SESSION_TOKEN`), signed as `x-amz-security-token`.
        var sessionToken: String?
    }

    /// What `x-amz-content-sha256` says of the body.
    enum Payload: Sendable, Equatable {
        /// The body's SHA-256, in hex: the server checks the body against it.
        case signed(sha256: String)
        /// `UNSIGNED-PAYLOAD`: for bodies streamed over TLS whose parts carry their own checksums.
        case unsigned

        /// The payload of an empty body.
        static let empty = Payload.signed(sha256: sha256Hex(of: Data()))

        /// The SHA-256 of `data` in hex, as `signed` wants it.
        static func sha256Hex(of data: Data) -> String {
            SHA256.hash(data: data).hex
        }

        var headerValue: String {
            switch self {
            case .signed(let sha256): return sha256
            case .unsigned: return "UNSIGNED-PAYLOAD"
            }
        }
    }

    let credentials: Credentials
    let region: String
    var service = "s3"

    /// Headers that proxies may change on the way, never signed (as botocore).
    static let unsignedHeaders: Set<String> = [
        "connection", "expect", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
        "transfer-encoding", "upgrade", "user-agent", "x-amzn-trace-id", "authorization",
    ]

    /// The headers to add to a request so that S3 accepts it: `X-Amz-Date`,
    /// `X-Amz-Content-SHA256`, `X-Amz-Security-Token` (with a session token) and
    /// `Authorization`.
    ///
    /// - Parameters:
    ///   - path: the request's path as sent, already percent-encoded (`encodePath`).
    ///   - query: the query as sent, already percent-encoded (`encodeQuery`), without `?`.
    ///   - host: the `Host` header's value (with the port when it is not the scheme's).
    ///   - headers: the request's other headers.
    func sign(
        method: String, host: String, path: String, query: String, headers: [(name: String, value: String)],
        payload: Payload, at moment: Date
    ) -> [(name: String, value: String)] {
        let stamp = Self.timestamp(moment)
        let day = String(stamp.prefix(8))
        var added: [(name: String, value: String)] = [
            ("X-Amz-Date", stamp), ("X-Amz-Content-SHA256", payload.headerValue),
        ]
        if let token = credentials.sessionToken { added.append(("X-Amz-Security-Token", token)) }

        // Canonical headers: lower-case names, values trimmed with inner runs of
        // space made one, a name's values joined by commas, sorted by name.
        var byName: [String: [String]] = [:]
        for (name, value) in headers + added {
            let lower = name.lowercased()
            guard !Self.unsignedHeaders.contains(lower) else { continue }
            byName[lower, default: []].append(value.split(whereSeparator: \.isWhitespace).joined(separator: " "))
        }
        if byName["host"] == nil { byName["host"] = [host] }
        let names = byName.keys.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
        let canonicalHeaders = names.map { "\($0):\(byName[$0, default: []].joined(separator: ","))\n" }.joined()
        let signedHeaders = names.joined(separator: ";")

        let canonicalRequest = [
            method.uppercased(), path.isEmpty ? "/" : path, Self.canonicalQuery(query), canonicalHeaders,
            signedHeaders, payload.headerValue,
        ].joined(separator: "\n")
        let scope = "\(day)/\(region)/\(service)/aws4_request"
        let stringToSign = ["AWS4-HMAC-SHA256", stamp, scope, SHA256.hash(data: Data(canonicalRequest.utf8)).hex]
            .joined(separator: "\n")
        var key = SymmetricKey(data: Data(("AWS4" + credentials.secretKey).utf8))
        for part in [day, region, service, "aws4_request"] {
            key = SymmetricKey(data: Data(HMAC<SHA256>.authenticationCode(for: Data(part.utf8), using: key)))
        }
        let signature = Data(HMAC<SHA256>.authenticationCode(for: Data(stringToSign.utf8), using: key)).hex
        added.append(
            (
                "Authorization",
                "AWS4-HMAC-SHA256 Credential=\(credentials.accessKey)/\(scope), "
                    + "SignedHeaders=\(signedHeaders), Signature=\(signature)"
            ))
        return added
    }

    /// The query's `key=value` pairs sorted by key, then value (a key without
    /// a value is `key=`), as they were encoded.
    static func canonicalQuery(_ query: String) -> String {
        guard !query.isEmpty else { return "" }
        let pairs = query.split(separator: "&", omittingEmptySubsequences: false).map { pair -> (String, String) in
            guard let equals = pair.firstIndex(of: "=") else { return (String(pair), "") }
            return (String(pair[..<equals]), String(pair[pair.index(after: equals)...]))
        }
        return pairs.sorted { first, second in
            first.0 == second.0
                ? Array(first.1.utf8).lexicographicallyPrecedes(Array(second.1.utf8))
                : Array(first.0.utf8).lexicographicallyPrecedes(Array(second.0.utf8))
        }.map { "\($0.0)=\($0.1)" }.joined(separator: "&")
    }

    /// `20261121T020000Z`: the company file's timestamp (docs/company-file.md) without its separators.
    static func timestamp(_ moment: Date) -> String {
        Timestamp.compact(from: moment)
    }

    /// Characters S3 takes as they are: RFC 3986's unreserved ones.
    private static let unreserved = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~".utf8)

    /// Percent-encodes the UTF-8 of `text`, keeping unreserved characters and those in `keep`.
    static func percentEncode(_ text: String, keeping keep: Set<UInt8> = []) -> String {
        var out = ""
        for byte in text.utf8 {
            if unreserved.contains(byte) || keep.contains(byte) {
                out.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                out += String(format: "%%%02X", byte)
            }
        }
        return out
    }

    /// An object's path: `/bucket/key` with every byte of the key but unreserved characters and `/` escaped.
    static func encodePath(_ path: String) -> String {
        percentEncode(path, keeping: [UInt8(ascii: "/")])
    }

    /// A query string from pairs (a nil value: the key alone, as in `?uploads`).
    static func encodeQuery(_ pairs: [(String, String?)]) -> String {
        pairs.map { key, value in percentEncode(key) + (value.map { "=" + percentEncode($0) } ?? "") }.joined(
            separator: "&")
    }
}
