import Testing

@testable import LedgerKit

@Suite struct MoneyTests {
    @Test(arguments: [
        (Int64(0), "0.00"), (5, "0.05"), (-5, "-0.05"), (10, "0.10"), (-1000, "-10.00"), (123_456, "1,234.56"),
        (99_999, "999.99"), (100_000, "1,000.00"), (-100_000_000, "-1,000,000.00"),
        (Int64.max, "92,233,720,368,547,758.07"), (Int64.min, "-92,233,720,368,547,758.08"),
    ])
    func formats(cents: Int64, text: String) {
        #expect(Money(cents: cents).description == text)
    }

    @Test func formatsWithoutGrouping() {
        #expect(Money(cents: 123_456_789).formatted(grouping: false) == "1234567.89")
    }

    @Test func arithmeticStaysInCents() {
        var total = Money(cents: 10)
        total += Money(cents: 20)
        total -= Money(cents: 45)
        #expect(total == Money(cents: -15))
        #expect(total.magnitude == Money(cents: 15))
        #expect(-total == Money(cents: 15))
    }
}

@Suite struct CivilDateTests {
    @Test(arguments: ["1970-01-01", "2000-02-29", "2023-12-31", "2024-02-29", "1999-03-01", "2400-02-29"])
    func roundTrips(text: String) throws {
        let day = try #require(CivilDate(text))
        #expect(day.description == text)
        #expect(CivilDate(dayNumber: day.dayNumber).description == text)
    }

    @Test(arguments: [
        "2023-02-29", "2100-02-29", "2023-13-01", "2023-00-10", "2023-04-31", "2023-1-01", "20230101", "2023-01-01 ",
        "abcd-ef-gh", "",
    ])
    func rejects(text: String) {
        #expect(CivilDate(text) == nil)
    }

    @Test func knowsItsNumbers() throws {
        #expect(CivilDate("1970-01-01")?.dayNumber == 0)
        #expect(CivilDate("2026-11-21")?.dayNumber == 20_778)
        #expect(CivilDate("2026-11-21")?.weekday == 5)  // a Saturday
        #expect(CivilDate("2024-02-10")?.endOfMonth.description == "2024-02-29")
    }

    @Test func timestamps() throws {
        let moment = try #require(Timestamp.parse("2026-11-20T23:00:05Z"))
        #expect(Timestamp.string(from: moment) == "2026-11-20T23:00:05Z")
        #expect(Timestamp.parse("2026-11-20T24:00:00Z") == nil)
        #expect(Timestamp.parse("2026-11-20 23:00:00Z") == nil)
        #expect(Timestamp.parse("2026-02-30T10:00:00Z") == nil)
        #expect(Timestamp.timeOfDay(3661) == "T01:01:01Z")
    }
}
