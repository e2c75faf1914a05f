// swift-tools-version:6.1
import PackageDescription

// Linux only (Debian/Ubuntu): the C modules name apt packages, the scripts install
// with apt, and `schedule` writes systemd timers. The macOS line below only sets
// the API availability floor for editors; nobody builds or tests there
// (docs/ARCHITECTURE.md).
let package = Package(
    name: "ledger",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "LedgerKit", targets: ["LedgerKit"]),
        .executable(name: "ledger", targets: ["ledger"]),
    ],
    dependencies: [
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
    ],
    targets: [
        .systemLibrary(
            name: "CZlib",
            path: "Sources/CZlib",
            providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(
            name: "CLibdeflate",
            path: "Sources/CLibdeflate",
            providers: [.apt(["libdeflate-dev"])]),
        // sqlite3_config, which GRDB has no door to (Support/SQLiteSettings.swift).
        .systemLibrary(
            name: "CSQLiteSettings",
            path: "Sources/CSQLiteSettings",
            providers: [.apt(["libsqlite3-dev"])]),
        .target(
            name: "LedgerKit",
            dependencies: [
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
                // Scrypt, for age's passphrase recipient.
                .product(name: "CryptoExtras", package: "swift-crypto"),
                "CZlib",
                "CLibdeflate",
                "CSQLiteSettings",
            ]),
        .executableTarget(
            name: "ledger",
            dependencies: [
                "LedgerKit",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        // The fuzzing harness (Scripts/fuzz.sh); built plainly, it replays inputs.
        .executableTarget(
            name: "LedgerFuzz",
            dependencies: ["LedgerKit"],
            path: "Tests/Fuzz"),
        // What both test targets use: another program holding a file.
        .target(
            name: "LedgerTestSupport",
            path: "Tests/Support"),
        .testTarget(
            name: "LedgerKitTests",
            dependencies: [
                "LedgerKit",
                "LedgerTestSupport",
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            // Data the tests read beside their sources (by #filePath), not resources of the bundle.
            exclude: ["ObjectStorage/Fixtures", "Robustness/FuzzFindings", "Encryption/Fixtures"]),
        .testTarget(
            name: "LedgerCLITests",
            dependencies: ["ledger", "LedgerKit", "LedgerTestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
