import Foundation
import Testing

@testable import LedgerKit

/// Configuration the AWS CLI's way: the environment, then the profile in
/// ~/.aws/credentials and ~/.aws/config.
@Suite struct S3ConfigurationTests {
    let folder = TemporaryDirectory()

    private func home(credentials: String = "", config: String = "") throws -> String {
        try FileManager.default.createDirectory(atPath: folder.file(".aws"), withIntermediateDirectories: true)
        try credentials.write(toFile: folder.file(".aws/credentials"), atomically: true, encoding: .utf8)
        try config.write(toFile: folder.file(".aws/config"), atomically: true, encoding: .utf8)
        return folder.path
    }

    @Test func locations() throws {
        let location = try #require(try S3Location("s3://acme-books/clients/acme/"))
        #expect(location.bucket == "acme-books" && location.prefix == "clients/acme")
        #expect(location.key("acme-20261121T020000Z.db.gz") == "clients/acme/acme-20261121T020000Z.db.gz")
        #expect(try S3Location("s3://books")?.key("x") == "x")
        #expect(try S3Location("/srv/backups") == nil)
        #expect(throws: ObjectStorageError.self) { try S3Location("s3://Not_A_Bucket/x") }
        #expect(throws: ObjectStorageError.self) { try S3Location("s3://") }
    }

    @Test func theEnvironmentComesFirst() throws {
        let home = try home(
            credentials: """
                [default]
                aws_access_key_id = FILEKEY
                aws_secret_access_key = filesecret
                """, config: "[default]\nregion = eu-west-1\n")
        let configuration = try S3Configuration.resolve(
            environment: [
                "AWS_ACCESS_KEY_ID": "ENVKEY", "AWS_SECRET_ACCESS_KEY": "envsecret", "AWS_SESSION_TOKEN": "token",
                "AWS_REGION": "us-west-2", "AWS_ENDPOINT_URL": "http://127.0.0.1:9000",
            ], home: home)
        #expect(configuration.credentials == .init(accessKey: "ENVKEY", secretKey: "envsecret", sessionToken: "token"))
        #expect(configuration.region == "us-west-2")
        #expect(configuration.endpoint.absoluteString == "http://127.0.0.1:9000")
        #expect(configuration.pathStyle, "a custom endpoint (MinIO, moto) is addressed by path")
        let s3Only = try S3Configuration.resolve(
            environment: [
                "AWS_ACCESS_KEY_ID": "K", "AWS_SECRET_ACCESS_KEY": "S", "AWS_ENDPOINT_URL": "http://a:1",
                "AWS_ENDPOINT_URL_S3": "http://b:2", "LEDGER_S3_ADDRESSING": "virtual",
            ], home: home)
        #expect(s3Only.endpoint.absoluteString == "http://b:2" && !s3Only.pathStyle)
        // A user name and password in the endpoint are never used, nor shown when it cannot be read.
        let withPassword = try S3Configuration.resolve(
            environment: [
                "AWS_ACCESS_KEY_ID": "K", "AWS_SECRET_ACCESS_KEY": "S",
                "AWS_ENDPOINT_URL": "http://office:hunter2@127.0.0.1:9000",
            ], home: home)
        #expect(withPassword.endpoint.absoluteString == "http://127.0.0.1:9000")
        // An "@" in the path is no password.
        #expect(S3Configuration.withoutUserInfo("https://minio.lan:9000/a@b") == "https://minio.lan:9000/a@b")
        let unreadable = #expect(throws: ObjectStorageError.self) {
            try S3Configuration.resolve(
                environment: [
                    "AWS_ACCESS_KEY_ID": "K", "AWS_SECRET_ACCESS_KEY": "S",
                    "AWS_ENDPOINT_URL": "ftp://office:hunter2@127.0.0.1:9000",
                ], home: home)
        }
        #expect(unreadable?.errorDescription?.contains("hunter2") == false)
    }

    @Test func profilesFromTheFiles() throws {
        let home = try home(
            credentials: """
                # ledger's off-site key
                [default]
                aws_access_key_id = DEFAULTKEY
                aws_secret_access_key = defaultsecret

                [b2]
                aws_access_key_id = B2KEY
                aws_secret_access_key = b2secret
                """,
            config: """
                [default]
                region = eu-central-1

                [profile b2]
                region = us-west-004
                endpoint_url = https://s3.us-west-004.backblazeb2.com
                s3 =
                  addressing_style = virtual
                """)
        let standard = try S3Configuration.resolve(environment: [:], home: home)
        #expect(standard.credentials.accessKey == "DEFAULTKEY" && standard.region == "eu-central-1")
        #expect(standard.endpoint.absoluteString == "https://s3.eu-central-1.amazonaws.com" && !standard.pathStyle)
        let b2 = try S3Configuration.resolve(environment: ["AWS_PROFILE": "b2"], home: home)
        #expect(b2.profile == "b2" && b2.credentials.accessKey == "B2KEY" && b2.region == "us-west-004")
        #expect(b2.endpoint.absoluteString == "https://s3.us-west-004.backblazeb2.com")
        #expect(!b2.pathStyle, "the profile's s3 addressing_style says virtual")
    }

    @Test func missingCredentialsAndBadEndpointsSayWhatToDo() throws {
        let home = try home()
        #expect(throws: ObjectStorageError.noCredentials(profile: "nightly")) {
            try S3Configuration.resolve(environment: ["AWS_PROFILE": "nightly"], home: home)
        }
        #expect(throws: ObjectStorageError.self) {
            try S3Configuration.resolve(
                environment: [
                    "AWS_ACCESS_KEY_ID": "K", "AWS_SECRET_ACCESS_KEY": "S",
                    "AWS_ENDPOINT_URL": "ftp://example",
                ], home: home)
        }
        let message = ObjectStorageError.noCredentials(profile: "default").localizedDescription
        #expect(
            message
                == "No credentials for object storage: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or add them to the [default] profile of ~/.aws/credentials (AWS_PROFILE picks another)."
        )
    }
}
