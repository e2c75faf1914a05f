import Foundation

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Why object storage could not be used. Each says what to do.
public enum ObjectStorageError: LocalizedError, Equatable, Sendable {
    case badLocation(String, reason: String)
    case noCredentials(profile: String)
    case badConfiguration(String)
    /// The server or the network refused; the reason says what to do.
    case refused(String)

    /// The one line a person reads: what happened and what to do.
    public var errorDescription: String? {
        switch self {
        case .badLocation(let text, let reason):
            return "\(text) is not an object storage location: \(reason). Write it as s3://BUCKET/PREFIX."
        case .noCredentials(let profile):
            return
                "No credentials for object storage: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or add them to the [\(profile)] profile of ~/.aws/credentials (AWS_PROFILE picks another)."
        case .badConfiguration(let reason):
            return "The object storage configuration is wrong: \(reason). Check AWS_ENDPOINT_URL and ~/.aws/config."
        case .refused(let reason):
            return reason + "."
        }
    }
}

extension ObjectStorageError {
    /// The one line a person reads for what a request to `location` met.
    static func explaining(_ error: any Error, at location: String) -> ObjectStorageError {
        switch error {
        case S3Failure.status(let status, let code, let request):
            switch (status, code) {
            case (_, "InvalidAccessKeyId"), (_, "SignatureDoesNotMatch"), (_, "InvalidToken"), (_, "ExpiredToken"),
                (401, _):
                return .refused(
                    "\(location) does not accept these credentials (\(code ?? "HTTP \(status)")); check AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_PROFILE"
                )
            case (_, "RequestTimeTooSkewed"):
                return .refused(
                    "\(location) says this machine's clock is wrong; set the clock (timedatectl set-ntp true) and try again"
                )
            case (_, "NoSuchBucket"):
                return .refused("the bucket of \(location) does not exist; create it, or check the name and AWS_REGION")
            case (_, "AccessDenied"), (403, _):
                return .refused(
                    "\(location) denies this request (\(request)); the key needs s3:GetObject, s3:PutObject, s3:ListBucket and s3:DeleteObject there"
                )
            default:
                return .refused(
                    "\(location) answered \(request) with HTTP \(status)\(code.map { " (\($0))" } ?? ""); nothing was written"
                )
            }
        case S3Failure.notCompleted(let key, let reason):
            return .refused(
                "\(location) did not surely store \(key) (\(reason)); it is not counted as written: run it again"
            )
        case S3Failure.exists(let key):
            return .refused("\(location) already holds \(key); nothing was overwritten")
        case S3Failure.endlessListing(let stop, let objects, let pages):
            return .refused(
                "\(location) gives a listing that does not end (\(stop.reason)); stopped after \(objects) objects in \(pages) pages. "
                    + "Check that AWS_ENDPOINT_URL names your object storage, or give --max-objects a larger count if the place holds more"
            )
        case S3Failure.badListing:
            return .refused(
                "\(location) answered with a document that is not the one asked for (not an S3 listing or upload); nothing was removed or used. Check that AWS_ENDPOINT_URL names your object storage"
            )
        case S3Failure.tooManyEntries(let most):
            return .refused(
                "\(location) sent a listing page of more than \(most) entries, more than S3 ever sends in one; stopped reading it. Check that AWS_ENDPOINT_URL names your object storage"
            )
        case S3Failure.sizeMismatch(let key, let listed, let head):
            return .refused(
                "\(location) gives \(key) two sizes, \(listed) bytes in its listing and \(head) by HEAD; nothing was read. Check that AWS_ENDPOINT_URL names your object storage"
            )
        case S3Failure.tooSlow(let request, let seconds):
            return .refused(
                "\(location) took more than \(seconds) s to answer \(request), far longer than its size needs; stopped waiting. Check the network and AWS_ENDPOINT_URL"
            )
        case S3Failure.tooLarge(let bytes):
            return .refused(
                "\(location) sent an answer longer than \(bytes) bytes, more than any it should; stopped reading it. Check that AWS_ENDPOINT_URL names your object storage"
            )
        case S3Failure.badRange(let asked, let got, let request):
            return .refused(
                "\(location) answered \(request) for \(asked) with other bytes (Content-Range: \(got.isEmpty ? "none" : got)); nothing was used. Check that AWS_ENDPOINT_URL names your object storage"
            )
        case let error as URLError:
            return .refused(
                "\(location) cannot be reached (\(error.code == .timedOut ? "timed out" : "no connection")); check the network and AWS_ENDPOINT_URL"
            )
        case let error as ObjectStorageError:
            return error
        default:
            return .refused("\(location): \(error)")
        }
    }
}
