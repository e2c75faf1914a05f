/// Word lists from which the sample company's names are made. Names are built by
/// counting through combinations, so each index gives one distinct name.
enum SampleNames {
    static let surnames = [
        "Abbott", "Baker", "Castillo", "Dawson", "Ellis", "Fischer", "Garcia", "Hughes", "Ibarra", "Jensen",
        "Kowalski", "Lambert", "Morales", "Nguyen", "Okafor", "Patel", "Quinn", "Russo", "Sato", "Turner",
        "Underwood", "Vasquez", "Walsh", "Xu", "Young", "Zimmerman", "Brennan", "Carver", "Delgado", "Ericsson",
        "Foster", "Gallagher", "Hollis", "Iverson", "Jordan", "Keller", "Lindqvist", "Mercer", "Novak", "Ortega",
        "Price", "Ramsey", "Sullivan", "Thorne", "Ueda", "Valdez", "Whitaker", "Yates", "Zhou", "Ashford",
    ]

    static let trades = [
        "Dental", "Bakery", "Architects", "Auto Repair", "Law Office", "Veterinary Clinic", "Florist",
        "Construction", "Realty", "Fitness", "Coffee Roasters", "Design Studio", "Printing", "Landscaping",
        "Pharmacy", "Family Practice", "Brewing", "Cleaners", "Hardware", "Insurance Agency",
    ]

    static let forms = ["", " LLC", " & Co.", " Inc.", " Group"]

    static let vendors = [
        "Office Depot", "Staples", "Pacific Gas & Electric", "Verizon Business", "Comcast Business",
        "State Farm", "Hartford Insurance", "Chevron", "Shell", "Home Depot", "Lowe's", "Grainger",
        "Ferguson Supply", "Uline", "Dell Technologies", "Adobe", "Intuit", "Amazon Business", "FedEx", "UPS",
        "City Water Dept.", "Metro Landlord Partners", "Sunrise Cleaning", "Apex Subcontracting", "Bright Signs",
    ]

    static let employeeFirstNames = [
        "Ava", "Ben", "Chloe", "Diego", "Emma", "Farah", "Gabe", "Hana", "Isaac", "Jade", "Kofi", "Lena",
    ]

    static func customer(_ index: Int) -> String {
        let perForm = surnames.count * trades.count
        let surname = surnames[index % surnames.count]
        let trade = trades[(index / surnames.count) % trades.count]
        let form = forms[(index / perForm) % forms.count]
        let round = index / (perForm * forms.count)
        return "\(surname) \(trade)\(form)" + (round > 0 ? " \(round + 1)" : "")
    }

    static func vendor(_ index: Int) -> String {
        if index < vendors.count { return vendors[index] }
        let rest = index - vendors.count
        return "\(surnames[rest % surnames.count]) Supply"
            + (rest >= surnames.count ? " \(rest / surnames.count + 1)" : "")
    }

    static func employee(_ index: Int) -> String {
        let first = employeeFirstNames[index % employeeFirstNames.count]
        let last = surnames[(index * 7 + 3) % surnames.count]
        let round = index / employeeFirstNames.count
        return "\(first) \(last)" + (round > 0 ? " \(round + 1)" : "")
    }

    struct Item {
        let name: String
        let incomeAccount: String?
        let expenseAccount: String?
        /// Price per unit in cents.
        let unitPrice: Int64
    }

    static let items: [Item] = [
        Item(name: "Consulting Hour", incomeAccount: "4010", expenseAccount: nil, unitPrice: 12_500),
        Item(name: "Senior Consulting Hour", incomeAccount: "4010", expenseAccount: nil, unitPrice: 19_500),
        Item(name: "Project Assessment", incomeAccount: "4010", expenseAccount: nil, unitPrice: 75_000),
        Item(name: "Network Audit", incomeAccount: "4010", expenseAccount: nil, unitPrice: 120_000),
        Item(name: "Training Session", incomeAccount: "4010", expenseAccount: nil, unitPrice: 45_000),
        Item(name: "Installation Labor Hour", incomeAccount: "4020", expenseAccount: nil, unitPrice: 9_500),
        Item(name: "Standard Installation", incomeAccount: "4020", expenseAccount: nil, unitPrice: 35_000),
        Item(name: "Rush Installation", incomeAccount: "4020", expenseAccount: nil, unitPrice: 52_500),
        Item(name: "Site Survey", incomeAccount: "4020", expenseAccount: nil, unitPrice: 18_000),
        Item(name: "Cable Run", incomeAccount: "4020", expenseAccount: nil, unitPrice: 7_500),
        Item(name: "Maintenance Plan Monthly", incomeAccount: "4030", expenseAccount: nil, unitPrice: 29_900),
        Item(name: "Maintenance Plan Annual", incomeAccount: "4030", expenseAccount: nil, unitPrice: 299_000),
        Item(name: "Service Call", incomeAccount: "4030", expenseAccount: nil, unitPrice: 14_900),
        Item(name: "After-Hours Service Call", incomeAccount: "4030", expenseAccount: nil, unitPrice: 24_900),
        Item(name: "Remote Support Hour", incomeAccount: "4030", expenseAccount: nil, unitPrice: 8_500),
        Item(name: "Wireless Router", incomeAccount: "4100", expenseAccount: "5000", unitPrice: 18_999),
        Item(name: "Managed Switch 24-Port", incomeAccount: "4100", expenseAccount: "5000", unitPrice: 42_900),
        Item(name: "Security Camera", incomeAccount: "4100", expenseAccount: "5000", unitPrice: 15_950),
        Item(name: "Door Access Reader", incomeAccount: "4100", expenseAccount: "5000", unitPrice: 27_500),
        Item(name: "UPS Battery Backup", incomeAccount: "4100", expenseAccount: "5000", unitPrice: 21_900),
        Item(name: "Patch Cable Pack", incomeAccount: "4100", expenseAccount: "5000", unitPrice: 3_450),
        Item(name: "Rack Cabinet", incomeAccount: "4100", expenseAccount: "5000", unitPrice: 64_000),
        Item(name: "Wall Mount Kit", incomeAccount: "4100", expenseAccount: "5000", unitPrice: 4_999),
        Item(name: "Fiber Transceiver", incomeAccount: "4100", expenseAccount: "5000", unitPrice: 8_900),
        Item(name: "Label Printer", incomeAccount: "4100", expenseAccount: "5000", unitPrice: 12_900),
        Item(name: "Subcontracted Labor", incomeAccount: nil, expenseAccount: "5100", unitPrice: 6_500),
        Item(name: "Equipment Rental", incomeAccount: "4100", expenseAccount: "5100", unitPrice: 15_000),
        Item(name: "Travel Time", incomeAccount: "4020", expenseAccount: nil, unitPrice: 6_000),
        Item(name: "Permit Fee", incomeAccount: "4020", expenseAccount: "6600", unitPrice: 9_000),
        Item(name: "Disposal Fee", incomeAccount: "4030", expenseAccount: "6850", unitPrice: 4_500),
    ]
}
