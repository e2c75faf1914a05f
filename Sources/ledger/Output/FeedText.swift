import ArgumentParser
import Foundation
import LedgerKit

/// How the feed commands write a line in a sentence.
enum FeedText {
    /// "2025-12-31, -15.00, Monthly service fee".
    static func line(_ link: FeedLink) -> String {
        [link.posted, Money(cents: link.amount).description, link.payee].compactMap { $0 }.joined(separator: ", ")
    }
}
