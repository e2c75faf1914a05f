import Foundation
import LedgerTestSupport

@testable import LedgerKit

extension S3TestServer {
    /// A configuration for the test server, or for `endpoint` (a fault proxy in front of it).
    static func configuration(endpoint: String? = nil) throws -> S3Configuration {
        try S3Configuration.resolve(environment: environment(endpoint: endpoint), home: "/nonexistent")
    }
}
