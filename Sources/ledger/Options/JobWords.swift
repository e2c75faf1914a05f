import ArgumentParser
import LedgerKit

/// What a scheduled job's command line may hold: the words go into a systemd
/// unit file and a crontab line, where a line break starts a new setting or
/// a new crontab entry, so a path with one (or another control character)
/// could add a command that runs at night; and the crontab line is printed,
/// where such a character is shown escaped (`Output.printable`), so the line
/// would name another path. Such a path is refused.
enum JobWords {
    /// Throws a usage error naming the first of `words` with a control character.
    static func check(_ words: [String]) throws {
        for word in words where BackupSchedule.holdsControlCharacters(word) {
            // `--encrypt-to "$(cat key.txt)"`: a secret key is never quoted back.
            guard !AgeKeyFiles.holdsSecretKey(word) else {
                throw ValidationError(
                    "A secret key (AGE-SECRET-KEY-1…) was given where a recipient or a path belongs: never give a "
                        + "secret key to a schedule; give its public key (age1…, what 'age-keygen -y KEYFILE' prints).")
            }
            throw ValidationError(
                "'\(Output.printable(word))' has a line break or another control character (or an invisible "
                    + "direction mark), which a unit file or a crontab line cannot hold safely; rename it, then "
                    + "schedule again.")
        }
    }
}
