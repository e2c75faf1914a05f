import Foundation

/// A ListObjectsV2 answer: its keys and sizes, and where the next page
/// starts. The document is flat, so it is read by its tags in one forward
/// scan of its bytes (linear in its size, whatever it holds), with XML's five
/// entities and numeric references undone. Only a whole `<ListBucketResult>`
/// document is a listing: anything else (an `<Error>` sent with 200, a page
/// cut short) is refused, never read as an empty listing, since an empty
/// listing lets prune remove what is there; so is a page of more entries
/// than S3 ever puts in one.
struct ListingParser {
    private(set) var objects: [S3Client.Object] = []
    /// The folders one level down (`CommonPrefixes`), when listed with a delimiter.
    private(set) var prefixes: [String] = []
    private(set) var truncated = false
    private(set) var nextToken: String?

    /// The most entries (`Contents` and `CommonPrefixes` together) a page may hold: S3's `max-keys` is 1,000.
    static let mostEntries = 1_000

    /// - Throws: `S3Failure.badListing` for anything but a whole `<ListBucketResult>`
    ///   document; `S3Failure.tooManyEntries` for a page of more than `mostEntries`.
    static func parse(_ data: Data) throws -> ListingParser {
        guard isListing(data) else { throw S3Failure.badListing }
        let bytes = [UInt8](data)
        var listing = ListingParser()
        var scan = Scan()
        var index = 0
        while let open = bytes[index...].firstIndex(of: UInt8(ascii: "<")) {
            guard let close = bytes[(open + 1)...].firstIndex(of: UInt8(ascii: ">")) else { break }
            index = close + 1
            let tag = bytes[(open + 1)..<close]
            guard let first = tag.first, first != UInt8(ascii: "?"), first != UInt8(ascii: "!") else {
                scan.opened = nil
                continue
            }
            if first == UInt8(ascii: "/") {
                let name = tag.dropFirst()
                // The text of an element is what lies between its open tag and its close, with no tag between.
                if let (opened, from) = scan.opened, opened.elementsEqual(name) {
                    scan.take(name, text: bytes[from..<open], into: &listing)
                }
                scan.opened = nil
                scan.closed(name, into: &listing)
            } else {
                let name = tag.prefix { $0 != UInt8(ascii: " ") && $0 != UInt8(ascii: "/") && $0 > 0x20 }
                scan.opened = tag.last == UInt8(ascii: "/") ? nil : (name, close + 1)
                try scan.began(name)
            }
        }
        return listing
    }

    /// Where a scan is: in which entry, what that entry holds so far, and the element last opened.
    private struct Scan {
        enum Inside { case top, contents, prefixes }
        var inside = Inside.top
        var entries = 0
        var key: String?
        var size: String?
        var modified: String?
        var prefix: String?
        var truncatedSeen = false
        var tokenSeen = false
        /// The element last opened and where its text starts; nil after any other tag.
        var opened: (name: ArraySlice<UInt8>, from: Int)?

        static let contents = Array("Contents".utf8)
        static let commonPrefixes = Array("CommonPrefixes".utf8)

        mutating func began(_ name: ArraySlice<UInt8>) throws {
            if name.elementsEqual(Self.contents) {
                inside = .contents
                (key, size, modified) = (nil, nil, nil)
            } else if name.elementsEqual(Self.commonPrefixes) {
                inside = .prefixes
                prefix = nil
            } else {
                return
            }
            entries += 1
            guard entries <= ListingParser.mostEntries else {
                throw S3Failure.tooManyEntries(most: ListingParser.mostEntries)
            }
        }

        /// Keeps the first text of each element that matters where it is.
        mutating func take(_ name: ArraySlice<UInt8>, text bytes: ArraySlice<UInt8>, into listing: inout ListingParser)
        {
            func text() -> String { ListingParser.unescape(String(decoding: bytes, as: UTF8.self)) }
            switch (inside, String(decoding: name, as: UTF8.self)) {
            case (.contents, "Key") where key == nil: key = text()
            case (.contents, "Size") where size == nil: size = text()
            case (.contents, "LastModified") where modified == nil: modified = text()
            case (.prefixes, "Prefix") where prefix == nil: prefix = text()
            case (.top, "IsTruncated") where !truncatedSeen:
                truncatedSeen = true
                listing.truncated = text() == "true"
            case (.top, "NextContinuationToken") where !tokenSeen:
                tokenSeen = true
                listing.nextToken = text()
            default: break
            }
        }

        /// Ends an entry: one without a key, or whose size is not a count of bytes, is not to be trusted and is left out.
        mutating func closed(_ name: ArraySlice<UInt8>, into listing: inout ListingParser) {
            if inside == .contents, name.elementsEqual(Self.contents) {
                if let key, let size = size.flatMap({ Int64($0) }), size >= 0 {
                    listing.objects.append(
                        S3Client.Object(key: key, size: size, lastModified: modified.flatMap(ListingParser.isoSeconds)))
                }
                inside = .top
            } else if inside == .prefixes, name.elementsEqual(Self.commonPrefixes) {
                if let prefix { listing.prefixes.append(prefix) }
                inside = .top
            }
        }
    }

    /// Whether `data` is one `<ListBucketResult>` document.
    static func isListing(_ data: Data) -> Bool { isDocument(data, root: "ListBucketResult") }

    /// Whether `data` is one XML document whose root is `root`: after
    /// whitespace (S3 pads a slow answer with it) and an optional XML
    /// declaration, the root element opens, and the document ends with its close.
    static func isDocument(_ data: Data, root: String) -> Bool {
        let bytes = [UInt8](data)
        func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D }
        func starts(_ text: String, at index: Int) -> Bool {
            let word = Array(text.utf8)
            return index >= 0 && bytes.count - index >= word.count && Array(bytes[index..<index + word.count]) == word
        }
        var start = starts("\u{FEFF}", at: 0) ? 3 : 0
        while start < bytes.count, isSpace(bytes[start]) { start += 1 }
        if starts("<?xml", at: start) {
            while start < bytes.count, !starts("?>", at: start) { start += 1 }
            start += 2
            while start < bytes.count, isSpace(bytes[start]) { start += 1 }
        }
        let open = "<" + root
        guard starts(open, at: start), start + open.utf8.count < bytes.count else { return false }
        let after = bytes[start + open.utf8.count]
        guard after == UInt8(ascii: ">") || isSpace(after) else { return false }
        var end = bytes.count
        while end > start, isSpace(bytes[end - 1]) { end -= 1 }
        let close = "</\(root)>"
        return end - start > open.utf8.count + close.utf8.count && starts(close, at: end - close.utf8.count)
    }

    /// `2026-12-04T16:29:53Z` from a listing's `2026-12-04T16:29:53.000Z`
    /// (fractions of a second dropped); nil for anything else.
    static func isoSeconds(_ text: String) -> String? {
        let bytes = Array(text.utf8)
        guard bytes.count >= 20, bytes.last == UInt8(ascii: "Z") else { return nil }
        let whole = String(decoding: bytes[0..<19], as: UTF8.self) + "Z"
        let fraction = bytes[19..<(bytes.count - 1)]
        guard
            fraction.isEmpty
                || (fraction.first == UInt8(ascii: ".") && fraction.count > 1
                    && fraction.dropFirst().allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) })),
            Timestamp.parse(whole) != nil
        else { return nil }
        return whole
    }

    /// `2026-12-04T16:29:53Z` from an HTTP date (RFC 9110's IMF-fixdate,
    /// `Fri, 04 Dec 2026 16:29:53 GMT`, as a `Last-Modified` header has it); nil for anything else.
    static func httpDateSeconds(_ text: String) -> String? {
        let parts = text.split(separator: " ")
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        guard parts.count == 6, parts[5] == "GMT", parts[1].count == 2, parts[3].count == 4,
            let month = months.firstIndex(of: String(parts[2]))
        else { return nil }
        let whole = "\(parts[3])-\(month < 9 ? "0" : "")\(month + 1)-\(parts[1])T\(parts[4])Z"
        return Timestamp.parse(whole) != nil ? whole : nil
    }

    /// The text of the first `<name>…</name>` in `text`, unescaped.
    static func element(_ name: String, in text: Substring) -> String? {
        guard let start = text.range(of: "<\(name)>"),
            let end = text.range(of: "</\(name)>", range: start.upperBound..<text.endIndex)
        else {
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
                let number =
                    entity.hasPrefix("#x")
                    ? UInt32(entity.dropFirst(2), radix: 16)
                    : entity.hasPrefix("#") ? UInt32(entity.dropFirst()) : nil
                if let scalar = number.flatMap(Unicode.Scalar.init) {
                    out.unicodeScalars.append(scalar)
                } else {
                    out += "&\(entity);"
                }
            }
            rest = rest[rest.index(after: semi)...]
        }
        return out + rest
    }
}
