import Foundation

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Exponential backoff with full jitter (AWS's advice): the n-th retry waits a
/// random time up to `base · 2ⁿ`, at most `cap`.
struct RetryPolicy: Sendable {
    var attempts = 6
    var base: TimeInterval = 0.2
    var cap: TimeInterval = 20

    func delay(afterAttempt attempt: Int) -> TimeInterval {
        let ceiling = min(cap, base * pow(2, Double(min(attempt, 30))))
        return Double.random(in: 0...ceiling)
    }

    /// Server answers worth another try: 5xx, 429, and S3's SlowDown and RequestTimeout.
    static func isRetryable(status: Int, code: String?) -> Bool {
        status >= 500 || status == 429 || code == "SlowDown" || code == "RequestTimeout"
    }

    /// Failures of the connection worth another try: time-outs, resets,
    /// refusals, and answers cut short (libcurl reports those as code -1,
    /// "transfer closed with N bytes remaining"). Not worth one: a URL that
    /// cannot be, a cancelled request.
    static func isRetryable(_ error: any Error) -> Bool {
        guard let error = error as? URLError else { return false }
        return ![
            .badURL, .unsupportedURL, .cancelled, .userCancelledAuthentication, .fileDoesNotExist,
            .noPermissionsToReadFile,
        ].contains(error.code)
    }
}
