import Foundation

/// S3's `<Error><Code>…</Code>` document.
enum S3ErrorDocument {
    static func code(in data: Data) -> String? {
        let text = String(decoding: data, as: UTF8.self)
        guard let start = text.range(of: "<Code>"),
            let end = text.range(of: "</Code>", range: start.upperBound..<text.endIndex)
        else {
            return nil
        }
        return String(text[start.upperBound..<end.lowerBound])
    }
}
