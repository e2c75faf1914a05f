import ArgumentParser
import Foundation
import LedgerKit

/// A span of time like 90m, 48h or 7d (minutes, hours, days, weeks), more than zero.
struct MaxAge: ExpressibleByArgument {
    let text: String
    let seconds: TimeInterval

    init(text: String, seconds: TimeInterval) {
        self.text = text
        self.seconds = seconds
    }

    init?(argument: String) {
        let units: [Character: TimeInterval] = ["m": 60, "h": 3_600, "d": 86_400, "w": 604_800]
        guard let unit = argument.last.flatMap({ units[$0] }), let count = Int(argument.dropLast()), count > 0,
            count <= Int(Double(Int32.max) * 60 / unit)
        else { return nil }
        self.init(text: argument, seconds: Double(count) * unit)
    }

    var defaultValueDescription: String { text }
}
