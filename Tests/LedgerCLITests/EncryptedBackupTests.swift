import Foundation
import LedgerTestSupport
import Testing

/// Encrypted snapshots from the command line, checked both ways against
/// Debian's `age` and through object storage.
@Suite struct EncryptedBackupTests {
    let folder = TemporaryDirectory()

    private func age(_ name: String = "age") throws -> ExternalTool {
        try ExternalTool.require(name, install: "apt-get install age")
    }

    private func shell(_ command: String, environment: [String: String]? = nil) throws -> (
        status: Int32, output: String
    ) {
        try ExternalTool.require("sh", install: "apt-get install dash").run(["-c", command], environment: environment)
    }

    private func sha256(_ path: String) throws -> String {
        String(try shell("sha256sum '\(path)'").output.prefix(64))
    }

    /// Runs `command` on a pseudo-terminal, typing `passphrase` at each of its
    /// first `times` passphrase prompts, as a person would.
    private func typing(_ passphrase: String, times: Int, _ command: [String]) throws -> (status: Int32, output: String)
    {
        let script = """
            import os, pty, signal, sys
            signal.alarm(120)  # a prompt that never comes fails the test instead of hanging it
            word, times, command = sys.argv[1].encode(), int(sys.argv[2]), sys.argv[3:]
            pid, fd = pty.fork()
            if pid == 0:
                os.execvp(command[0], command)
            seen, sent = b"", 0
            while True:
                try:
                    data = os.read(fd, 1024)
                except OSError:
                    break
                if not data:
                    break
                seen += data
                while sent < times and seen.lower().count(b"passphrase") > sent:
                    os.write(fd, word + b"\\n")
                    sent += 1
            _, status = os.waitpid(pid, 0)
            sys.stdout.buffer.write(seen)
            sys.exit(os.waitstatus_to_exitcode(status))
            """
        return try ExternalTool.require("python3", install: "apt-get install python3")
            .run(["-c", script, passphrase, String(times)] + command)
    }

    /// A new identity file and its recipient, made by `ledger key new`.
    private func newKey(_ name: String = "key.txt") throws -> (path: String, recipient: String) {
        let path = folder.file(name)
        let made = try Ledger.run("key", "new", "--out", path)
        #expect(made.status == 0, "\(made.stderr)")
        return (path, made.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    private func json(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    @Test func keysAreAgesKeysAndArePrivate() throws {
        let (path, recipient) = try newKey()
        #expect(recipient.hasPrefix("age1"))
        var status = stat()
        stat(path, &status)
        #expect(status.st_mode & 0o777 == 0o600)
        let derived = try age("age-keygen").run(["-y", path])
        #expect(derived.output.trimmingCharacters(in: .whitespacesAndNewlines) == recipient, "age-keygen reads our key")
        let again = try Ledger.run("key", "new", "--out", path)
        #expect(again.status == 2 && again.stderr.contains("already exists: nothing was overwritten"))
        #expect(!again.stdout.contains("AGE-SECRET-KEY") && !again.stderr.contains("AGE-SECRET-KEY"))
    }

    @Test func anEncryptedSnapshotOpensWithAgeAloneAndLeaksNothing() throws {
        let file = try folder.sample("acme.db")
        let (key, recipient) = try newKey()
        let backups = folder.file("backups")
        let made = try Ledger.run("backup", file, "--to", backups, "--encrypt-to", recipient, "--json")
        #expect(made.status == 0, "\(made.stderr)")
        let snapshot = try json(made.stdout)
        let path = try #require(snapshot["path"] as? String)
        #expect(path.hasSuffix("Z.db.gz.age") && snapshot["encrypted"] as? Bool == true)
        let sha = try #require(snapshot["database_sha256"] as? String)
        #expect(String(try shell("age -d -i '\(key)' '\(path)' | gzip -dc | sha256sum").output.prefix(64)) == sha)

        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        #expect(bytes.range(of: Data("SQLite format 3".utf8)) == nil)
        #expect(
            bytes.range(of: Data("Sample Company".utf8)) == nil && bytes.range(of: Data("database_sha256".utf8)) == nil)
        #expect(
            try FileManager.default.contentsOfDirectory(atPath: backups).sorted() == [
                ".ledger.lock", URL(fileURLWithPath: path).lastPathComponent,
            ])
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasPrefix(".") } == [])

        // Without a key: listed by its name, chosen by time, then refused in one line; with it, restored.
        let listed = try Ledger.run("snapshots", backups, "--json")
        let entry = try #require(
            (try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [[String: Any]])?.first)
        #expect(Set(entry.keys) == ["path", "bytes", "created_at", "encrypted"])
        #expect(entry["created_at"] as? String == snapshot["created_at"] as? String)
        let refused = try Ledger.run(
            "restore", backups, "--to", folder.file("r.db"), "--stem", "acme", "--at", "2099-01-01")
        #expect(
            refused.status == 2 && refused.stderr.contains("is encrypted: give the identity file"), "\(refused.stderr)")
        #expect(!FileManager.default.fileExists(atPath: folder.file("r.db")))
        let restored = try Ledger.run(
            "restore", backups, "--to", folder.file("r.db"), "--stem", "acme", "--identity", key)
        #expect(restored.status == 0, "\(restored.stderr)")
        #expect(try sha256(folder.file("r.db")) == sha)
        let read = try Ledger.run("snapshots", backups, "--json", "--identity", key)
        #expect(
            read.stdout.contains("\"company\" : \"Sample Company\"") && read.stdout.contains("\"encrypted\" : true"))
    }

    @Test func snapshotsEncryptedByAgeAreRestoredByLedger() throws {
        let file = try folder.sample("acme.db")
        let plain = try json(try Ledger.run("backup", file, "--to", folder.file("plain"), "--json").stdout)
        let plainPath = try #require(plain["path"] as? String)
        let sha = try #require(plain["database_sha256"] as? String)
        let (key, recipient) = try newKey()
        let sealed = folder.file("sealed/" + URL(fileURLWithPath: plainPath).lastPathComponent + ".age")
        try FileManager.default.createDirectory(atPath: folder.file("sealed"), withIntermediateDirectories: true)
        #expect(try age().run(["-r", recipient, "-o", sealed, plainPath]).status == 0)
        let restored = try Ledger.run("restore", sealed, "--to", folder.file("from-age.db"), "--identity", key)
        #expect(restored.status == 0, "\(restored.stderr)")
        #expect(try sha256(folder.file("from-age.db")) == sha)

        // And with age's passphrase (scrypt), typed at a terminal for both tools.
        let locked = folder.file("locked/" + URL(fileURLWithPath: plainPath).lastPathComponent + ".age")
        try FileManager.default.createDirectory(atPath: folder.file("locked"), withIntermediateDirectories: true)
        let encrypted = try typing(
            "a long and secret phrase", times: 2, [try age().path, "-p", "-o", locked, plainPath])
        #expect(encrypted.status == 0, "\(encrypted.output)")
        let opened = try typing(
            "a long and secret phrase", times: 1,
            [Ledger.binary.path, "restore", locked, "--to", folder.file("from-passphrase.db"), "--passphrase"])
        #expect(opened.status == 0, "\(opened.output)")
        #expect(try sha256(folder.file("from-passphrase.db")) == sha)
        let wrong = try typing(
            "not the phrase", times: 1,
            [Ledger.binary.path, "restore", locked, "--to", folder.file("wrong.db"), "--passphrase"])
        #expect(wrong.status == 2 && wrong.output.contains("None of the keys given opens"), "\(wrong.output)")
        #expect(!FileManager.default.fileExists(atPath: folder.file("wrong.db")))
    }

    @Test func aPassphraseBackupOpensWithAgeAndTheSamePassphrase() throws {
        let file = try folder.sample("acme.db")
        let made = try typing(
            "correct horse battery", times: 2,
            [Ledger.binary.path, "backup", file, "--to", folder.file("backups"), "--passphrase", "--json"])
        #expect(made.status == 0, "\(made.output)")
        let path = try #require(
            try FileManager.default.contentsOfDirectory(atPath: folder.file("backups")).first { $0.hasSuffix(".age") })
        let decrypted = try typing(
            "correct horse battery", times: 1,
            [try age().path, "-d", "-o", folder.file("x.db.gz"), folder.file("backups/" + path)])
        #expect(decrypted.status == 0, "\(decrypted.output)")
        #expect(try shell("gzip -dc '\(folder.file("x.db.gz"))' | head -c 15").output == "SQLite format 3")
        // Never from a pipe or an argument: without a terminal it is refused in one line.
        let piped = try Ledger.run("backup", file, "--to", folder.file("backups"), "--passphrase")
        #expect(piped.status == 2 && piped.stderr.contains("can only be typed at a terminal"), "\(piped.stderr)")
    }

    @Test func damageAndWrongKeysAreRefusedAndReported() throws {
        let file = try folder.sample("acme.db")
        let (key, recipient) = try newKey()
        let (otherKey, _) = try newKey("other.txt")
        let backups = folder.file("backups")
        let made = try json(try Ledger.run("backup", file, "--to", backups, "--encrypt-to", recipient, "--json").stdout)
        let path = try #require(made["path"] as? String)
        let before = try sha256(file)

        let wrong = try Ledger.run("restore", path, "--to", file, "--identity", otherKey, "--force")
        #expect(
            wrong.status == 2 && wrong.stderr.split(separator: "\n").count == 1
                && wrong.stderr.contains("None of the keys given opens"))
        chmod(key, 0o644)
        let open = try Ledger.run("restore", path, "--to", file, "--identity", key, "--force")
        #expect(open.status == 2 && open.stderr.contains("can be read by other users (mode 644)"), "\(open.stderr)")
        chmod(key, 0o600)

        // One changed byte in the payload, then a cut: check-backups reports it, restore refuses it.
        let damaged = folder.file("damaged")
        try FileManager.default.createDirectory(atPath: damaged, withIntermediateDirectories: true)
        let name = URL(fileURLWithPath: path).lastPathComponent
        // A byte in the last chunk: past the first chunk (which a listing reads) when the file has two.
        let size = try #require(try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int)
        #expect(
            try shell(
                "cp '\(path)' '\(damaged)/\(name)' && printf '\\001' | dd of='\(damaged)/\(name)' bs=1 seek=\(size - 100) conv=notrunc 2>/dev/null"
            ).status == 0)
        let checked = try Ledger.run("check-backups", damaged, "--identity", key)
        #expect(
            checked.status == 1 && checked.stdout.contains("DAMAGED")
                && checked.stdout.contains("was changed or cut short"), "\(checked.stdout)")
        let refused = try Ledger.run("restore", damaged, "--to", file, "--identity", key, "--force")
        #expect(refused.status == 2 && refused.stderr.contains("cannot be decrypted"), "\(refused.stderr)")
        #expect(try shell("truncate -s \(size / 2) '\(damaged)/\(name)'").status == 0)
        let cut = try Ledger.run("check-backups", damaged, "--identity", key)
        #expect(cut.status == 1 && cut.stdout.contains("DAMAGED"), "\(cut.stdout)")
        #expect(try sha256(file) == before, "the target is untouched")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasPrefix(".") } == [])
    }

    @Test func recipientsSetForTheLocationOnThisMachineEncryptEverySnapshotWrittenThere() throws {
        let file = try folder.sample("acme.db")
        let (key, recipient) = try newKey()
        let backups = folder.file("backups")
        try FileManager.default.createDirectory(atPath: folder.file("config/ledger"), withIntermediateDirectories: true)
        try "# the office's key\n\(backups) \(recipient)\n".write(
            toFile: folder.file("config/ledger/recipients"), atomically: true, encoding: .utf8)
        var environment = ProcessInfo.processInfo.environment
        environment["XDG_CONFIG_HOME"] = folder.file("config")
        #expect(try Ledger.run(["backup", file, "--to", backups], environment: environment).status == 0)
        let rebuilt = try Ledger.run(["rebuild", file, "--backup-dir", backups], environment: environment)
        #expect(rebuilt.status == 0, "\(rebuilt.stderr)")
        let names = try FileManager.default.contentsOfDirectory(atPath: backups).filter { !$0.hasPrefix(".") }
        #expect(names.count == 2 && names.allSatisfy { $0.hasSuffix(".db.gz.age") }, "\(names)")
        let listed = try Ledger.run("snapshots", backups, "--identity", key)
        #expect(listed.stdout.contains("pre-rebuild") && listed.stdout.contains("manual"), "\(listed.stdout)")
        // Without a key, prune cannot tell which is clean: the older one may be the last good copy, and stays.
        let sealed = names.map { backups + "/" + $0 }.sorted()
        let blind = try Ledger.run("prune", backups, "--keep-last", "1")
        #expect(blind.status == 0, "\(blind.stderr)")
        let inOrder = try Ledger.run("snapshots", backups, "--json")
        let order = try #require(try JSONSerialization.jsonObject(with: Data(inOrder.stdout.utf8)) as? [[String: Any]])
            .compactMap { $0["path"] as? String }
        #expect(order.count == 2)
        #expect(
            blind.stdout
                == "Kept \(order[0]): encrypted, it may be the newest clean snapshot of acme.db; give --identity to tell "
                + "(the rules alone would have pruned it)\nkeep   \(order[1]) (newest, last 1, may be newest clean)\n2 kept, 0 removed.\n",
            "\(blind.stdout)")
        #expect(
            try FileManager.default.contentsOfDirectory(atPath: backups).filter { $0.hasSuffix(".age") }.sorted()
                == sealed.map { URL(fileURLWithPath: $0).lastPathComponent })
        // With the key it can: the pre-rebuild snapshot was not verified, so the manual one is the last good copy.
        let opened = try Ledger.run("prune", backups, "--keep-last", "1", "--identity", key)
        #expect(opened.status == 0, "\(opened.stderr)")
        #expect(
            opened.stdout
                == "Kept \(order[0]): the newest clean snapshot of acme.db (the rules alone would have pruned it)\n"
                + "keep   \(order[1]) (newest, last 1)\n2 kept, 0 removed.\n", "\(opened.stdout)")
        // A newer clean backup is the last good copy; the older two go.
        let newer = try json(
            try Ledger.run(["backup", file, "--to", backups, "--json"], environment: environment).stdout)
        let newest = try #require(newer["path"] as? String)
        let pruned = try Ledger.run("prune", backups, "--keep-last", "1", "--identity", key)
        #expect(pruned.status == 0, "\(pruned.stderr)")
        #expect(
            pruned.stdout
                == "removed \(order[0])\nremoved \(order[1])\nkeep   \(newest) (newest, last 1, newest clean)\n1 kept, 2 removed.\n",
            "\(pruned.stdout)")
        #expect(
            try FileManager.default.contentsOfDirectory(atPath: backups).filter { $0.hasSuffix(".age") } == [
                URL(fileURLWithPath: newest).lastPathComponent
            ])
    }

    @Test func encryptedSnapshotsInObjectStorageKeepOnlyTheirKindAndTimeInTheClear() throws {
        let environment = try S3TestServer.environment()
        let bucket = S3TestServer.bucketName()
        let aws = try ExternalTool.require("aws", install: "pip install awscli")
        let endpoint = try S3TestServer.endpoint.get()
        #expect(
            try aws.run(["--endpoint-url", endpoint, "s3", "mb", "s3://\(bucket)"], environment: environment).status
                == 0)
        let file = try folder.sample("acme.db")
        let (key, recipient) = try newKey()
        let made = try Ledger.run(
            [
                "backup", file, "--to", "s3://\(bucket)/acme", "--encrypt-to", recipient, "--kind", "scheduled",
                "--json",
            ],
            environment: environment)
        #expect(made.status == 0, "\(made.stderr)")
        let path = try #require(try json(made.stdout)["path"] as? String)
        let sha = try #require(try json(made.stdout)["database_sha256"] as? String)
        let head = try aws.run(
            [
                "--endpoint-url", endpoint, "s3api", "head-object", "--bucket", bucket,
                "--key", String(path.dropFirst("s3://\(bucket)/".count)),
            ], environment: environment)
        let metadata = try #require(try json(head.output)["Metadata"] as? [String: String])
        #expect(metadata.keys.sorted() == ["created-at", "kind"] && metadata["kind"] == "scheduled")

        let listed = try Ledger.run(["snapshots", "s3://\(bucket)/acme", "--json"], environment: environment)
        let entry = try #require(
            (try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [[String: Any]])?.first)
        #expect(
            entry["kind"] as? String == "scheduled" && entry["encrypted"] as? Bool == true && entry["company"] == nil)
        let restored = try Ledger.run(
            ["restore", "s3://\(bucket)/acme", "--to", folder.file("r.db"), "--stem", "acme", "--identity", key],
            environment: environment)
        #expect(restored.status == 0, "\(restored.stderr)")
        #expect(try sha256(folder.file("r.db")) == sha)
        let copied = try shell(
            "aws --endpoint-url \(endpoint) s3 cp '\(path)' - | age -d -i '\(key)' | gzip -dc | sha256sum",
            environment: environment)
        #expect(String(copied.output.prefix(64)) == sha)
    }

    /// `snapshots` in local time (here New York, set for the binary only), what is
    /// known of an encrypted snapshot without a key and one line counting those,
    /// `check-backups` exit 1 for them, `--at today` and `--at yesterday`.
    @Test func snapshotsSayLocalTimeAndWhatNoKeyCouldRead() throws {
        let file = try folder.sample("acme.db")
        let (key, recipient) = try newKey()
        var environment = ProcessInfo.processInfo.environment
        environment["TZ"] = "America/New_York"
        let backups = folder.file("backups")
        let taken = try json(
            try Ledger.run("backup", file, "--to", backups, "--encrypt-to", recipient, "--json").stdout)
        let takenPath = try #require(taken["path"] as? String)
        // Named as if taken at noon on a summer day in New York.
        let path = backups + "/acme-20260701T160000Z.db.gz.age"
        try FileManager.default.moveItem(atPath: takenPath, toPath: path)

        let listed = try Ledger.run(["snapshots", backups], environment: environment)
        #expect(listed.status == 0, "\(listed.stderr)")
        let lines = listed.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 2, "\(listed.stdout)")
        #expect(lines.first?.hasPrefix("2026-07-01 12:00:00 -04:00  acme.db  ") == true, "\(listed.stdout)")
        #expect(
            lines.first?.hasSuffix("  encrypted, kind unknown without --identity  \(path)") == true, "\(listed.stdout)")
        #expect(
            lines.last
                == "1 encrypted snapshot could not be read without a key: give --identity KEYFILE to see its company, kind and verify."
        )
        let asJSON = try Ledger.run(["snapshots", backups, "--json"], environment: environment)
        #expect(
            asJSON.status == 0 && asJSON.stdout.contains("\"created_at\" : \"2026-07-01T16:00:00Z\""),
            "\(asJSON.stdout)")

        let checked = try Ledger.run(["check-backups", backups], environment: environment)
        #expect(checked.status == 1, "\(checked.stdout)")
        #expect(
            checked.stdout.hasSuffix(
                "\n0 of 0 snapshots read are whole; 1 encrypted snapshot could not be read without a key: give --identity KEYFILE.\n"
            ),
            "\(checked.stdout)")

        // With the key: the manifest's time, in New York, and its kind.
        let opened = try Ledger.run(["snapshots", backups, "--identity", key], environment: environment)
        #expect(opened.status == 0, "\(opened.stderr)")
        let format = DateFormatter()
        format.locale = Locale(identifier: "en_US_POSIX")
        format.timeZone = TimeZone(identifier: "America/New_York")
        format.dateFormat = "yyyy-MM-dd HH:mm:ss xxx"
        let createdText = try #require(taken["created_at"] as? String)
        let createdAt = try #require(ISO8601DateFormatter().date(from: createdText))
        #expect(opened.stdout.hasPrefix(format.string(from: createdAt) + "  manual      "), "\(opened.stdout)")
        #expect(opened.stdout.split(separator: "\n").count == 1, "\(opened.stdout)")

        // --at today and yesterday: local days, the end of each.
        let plain = folder.file("plain")
        #expect(try Ledger.run(["backup", file, "--to", plain], environment: environment).status == 0)
        let early = try Ledger.run(
            ["restore", plain, "--to", folder.file("r.db"), "--stem", "acme", "--at", "yesterday"],
            environment: environment)
        #expect(early.status == 2 && !FileManager.default.fileExists(atPath: folder.file("r.db")), "\(early.stderr)")
        let today = try Ledger.run(
            ["restore", plain, "--to", folder.file("r.db"), "--stem", "acme", "--at", "today"], environment: environment
        )
        #expect(today.status == 0, "\(today.stderr)")
        let refused = try Ledger.run(
            ["restore", plain, "--to", folder.file("r.db"), "--at", "tomorrow"], environment: environment)
        #expect(
            refused.status == 64
                && refused.stderr.contains(
                    "--at 'tomorrow' is not a time; write it like 2026-11-20 18:00 (local time), 2026-11-20T23:00:00Z, 2026-11-20, today or yesterday."
                ),
            "\(refused.stderr)")
    }

    @Test func aSecretKeyGivenAsRecipientsIsRefusedSayingWhatItIs() throws {
        let file = try folder.sample("acme.db")
        let (key, recipient) = try newKey()
        let refused = try Ledger.run("backup", file, "--to", folder.file("backups"), "--recipients-file", key)
        #expect(refused.status == 2)
        #expect(
            refused.stderr
                == "ledger: \(key) is a secret key (AGE-SECRET-KEY-1…), not a recipients file: a recipients file holds "
                + "age1… public keys. Never give a secret key to backup; give its public key instead: --encrypt-to \(recipient), "
                + "or a recipients file holding that line ('age-keygen -y \(key)' prints it too).\n",
            "\(refused.stderr)")
        #expect(!FileManager.default.fileExists(atPath: folder.file("backups")))
    }

    /// A secret key pasted into this machine's recipients file, or given where
    /// a recipient belongs, is refused saying where it is and its public key:
    /// not one character of it is echoed (stderr reaches logs and mail).
    @Test func aSecretKeyWhereARecipientBelongsIsNeverEchoed() throws {
        let file = try folder.sample("acme.db")
        let (key, recipient) = try newKey()
        let contents = try String(contentsOfFile: key, encoding: .utf8)
        let secret = try #require(contents.split(separator: "\n").first { $0.hasPrefix("AGE-SECRET-KEY-1") })
        let backups = folder.file("backups")
        let (config, environment) = try folder.recipientsConfig("# the office\n\(backups) \(secret)\n")
        let refused = try Ledger.run(["backup", file, "--to", backups], environment: environment)
        #expect(refused.status == 2)
        #expect(
            refused.stderr
                == "ledger: \(config) line 2: it holds a secret key (AGE-SECRET-KEY-1…), which must never be written "
                + "here: remove it, and write its public key, \(recipient), in its place. Write each line as "
                + "'LOCATION age1… [age1…]' (a full path or s3://BUCKET/PREFIX); # starts a comment.\n",
            "\(refused.stderr)")
        #expect(
            (try? FileManager.default.contentsOfDirectory(atPath: backups))?.filter { !$0.hasPrefix(".") } ?? [] == [])

        let given = try Ledger.run("backup", file, "--to", backups, "--encrypt-to", String(secret))
        #expect(given.status == 2)
        #expect(
            given.stderr
                == "ledger: A secret key (AGE-SECRET-KEY-1…) was given as a recipient: never give a secret key to "
                + "backup; give its public key instead: --encrypt-to \(recipient).\n", "\(given.stderr)")
        // The whole key file, as `--encrypt-to "$(cat key.txt)"` gives it, line breaks and all.
        let scheduled = try Ledger.run(
            "schedule", file, "--to", backups, "--encrypt-to", contents, "--unit-dir", folder.file("units"))
        #expect(scheduled.status == 64)
        #expect(
            scheduled.stderr.hasPrefix(
                "Error: A secret key (AGE-SECRET-KEY-1…) was given where a recipient or a path belongs: never give a "
                    + "secret key to a schedule; give its public key (age1…, what 'age-keygen -y KEYFILE' prints).\n"),
            "\(scheduled.stderr)")
        let body = String(secret.dropFirst("AGE-SECRET-KEY-1".count).prefix(8))
        for run in [refused, given, scheduled] {
            #expect(!(run.stdout + run.stderr).contains(body), "\(run.stderr)")
        }
        #expect(
            (try? FileManager.default.contentsOfDirectory(atPath: backups))?.filter { !$0.hasPrefix(".") } ?? [] == [])
    }
}
