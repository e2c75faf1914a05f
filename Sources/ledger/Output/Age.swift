import Foundation
import LedgerKit

/// How long ago, in the words a bookkeeper reads: "just now", "5 minutes ago", "3 days ago".
enum Age {
    static func phrase(_ seconds: Int) -> String {
        guard seconds >= 0 else { return "dated \(span(-seconds)) ahead of this machine's clock" }
        return seconds < 60 ? "just now" : span(seconds) + " ago"
    }

    private static func span(_ seconds: Int) -> String {
        switch seconds {
        case ..<3_600: return Output.count(max(1, seconds / 60), "minute")
        case ..<172_800: return Output.count(seconds / 3_600, "hour")
        default: return Output.count(seconds / 86_400, "day")
        }
    }
}
