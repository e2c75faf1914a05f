import Foundation
import Testing

@testable import LedgerKit

/// Our Signature V4 against botocore's, for the table of requests in
/// `Fixtures/sigv4.json` (made by `Scripts/make-sigv4-fixture.py`).
@Suite struct SignatureV4Tests {
    struct Fixture: Decodable {
        struct Request: Decodable {
            let name: String
            let method: String
            let url: String
            let region: String
            let headers: [String: String]
            let body: String
            let signPayload: Bool
            let sessionToken: String?
            let signed: [String: String]

            enum CodingKeys: String, CodingKey {
                case name, method, url, region, headers, body
                case signPayload = "sign_payload"
                case sessionToken = "session_token"
                case signed
            }
        }

        let accessKey: String
        let secretKey: String
        let moment: String
        let requests: [Request]

        enum CodingKeys: String, CodingKey {
            case accessKey = "access_key"
            case secretKey = "secret_key"
            case moment, requests
        }
    }

    static let fixture: Fixture? = {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
            "Fixtures/sigv4.json")
        guard let data = try? Data(contentsOf: path) else { return nil }
        return try? JSONDecoder().decode(Fixture.self, from: data)
    }()

    static var names: [String] { fixture?.requests.map(\.name) ?? ["the fixture is missing"] }

    @Test(arguments: names)
    func signsLikeBotocore(name: String) throws {
        let fixture = try #require(Self.fixture)
        let request = try #require(fixture.requests.first { $0.name == name })
        let url = try #require(URLComponents(string: request.url))
        let scheme = url.scheme ?? "https"
        let host = (url.host ?? "").lowercased()
        let defaultPort = scheme == "https" ? 443 : 80
        let hostHeader = url.port.map { $0 == defaultPort ? host : "\(host):\($0)" } ?? host
        // "20261121T020000Z" → "2026-11-21T02:00:00Z".
        let digits = Array(fixture.moment)
        let parts: [String] = [
            String(digits[0..<4]), "-", String(digits[4..<6]), "-", String(digits[6..<8]), "T",
            String(digits[9..<11]), ":", String(digits[11..<13]), ":", String(digits[13..<15]), "Z",
        ]
        let moment = try #require(Timestamp.parse(parts.joined()))
        let signer = SignatureV4(
            credentials: .init(
                accessKey: fixture.accessKey, secretKey: fixture.secretKey,
                sessionToken: request.sessionToken), region: request.region)
        let payload: SignatureV4.Payload =
            request.signPayload
            ? .signed(sha256: SHA256Hex.of(Data(request.body.utf8))) : .unsigned
        let added = signer.sign(
            method: request.method, host: hostHeader, path: url.percentEncodedPath,
            query: url.percentEncodedQuery ?? "", headers: request.headers.map { ($0.key, $0.value) },
            payload: payload, at: moment)
        let ours = Dictionary(added.map { ($0.name, $0.value) }, uniquingKeysWith: { first, _ in first })
        #expect(ours == request.signed)
    }

    @Test func pathsAndQueriesAreEncodedAsS3Wants() {
        #expect(
            SignatureV4.encodePath("/books/Café Books/a b+c=d&e.db.gz")
                == "/books/Caf%C3%A9%20Books/a%20b%2Bc%3Dd%26e.db.gz")
        #expect(
            SignatureV4.encodeQuery([("list-type", "2"), ("prefix", "a b/c"), ("uploads", nil)])
                == "list-type=2&prefix=a%20b%2Fc&uploads")
        #expect(SignatureV4.canonicalQuery("uploads&b=2&a=1") == "a=1&b=2&uploads=")
    }
}

/// SHA-256 in hex, for the tests.
enum SHA256Hex {
    static func of(_ data: Data) -> String {
        SignatureV4.Payload.sha256Hex(of: data)
    }
}
