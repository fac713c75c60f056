import Testing
import Monitoring

@Suite("Slugs are Django's slugify")
struct SlugTests {
    // Expected values from django.utils.text.slugify (Django 5.2.19 on Python 3.11).
    static let cases: [(String, String)] = [
        ("Database Backup", "database-backup"),
        ("Café  Backup!", "cafe-backup"),
        ("__x__", "x"),
        ("-_-x-_-", "x"),
        ("a_b", "a_b"),
        ("  spaced   out  ", "spaced-out"),
        ("tab\tnew\nline", "tab-new-line"),
        ("vt\u{0B}ff\u{0C}cr\r", "vt-ff-cr"),
        ("fs\u{1C}gs\u{1D}rs\u{1E}us\u{1F}", "fs-gs-rs-us"),
        ("nbsp\u{A0}here", "nbsp-here"),
        ("ﬁle ﬀ", "file-ff"),
        ("Ｆｕｌｌｗｉｄｔｈ", "fullwidth"),
        ("日本語", ""),
        ("🔥 deploy 🔥", "deploy"),
        ("a--b---c", "a-b-c"),
        ("a - b", "a-b"),
        ("C++ / C#", "c-c"),
        ("Ünïcödé", "unicode"),
        ("½ price", "12-price"),
        ("x\u{0301}y", "xy"),
        ("", ""),
        ("___", ""),
        ("a\u{00}b", "ab"),
        ("back\\slash", "backslash"),
        ("2024-01-01 report", "2024-01-01-report"),
        ("ǅemal", "dzemal"),
        ("Straße", "strae"),
        ("İstanbul", "istanbul"),
        ("em\u{2003}space", "em-space"),
        ("line\u{2028}sep", "linesep"),
        ("next\u{85}line", "nextline"),
    ]

    @Test("slugify matches Django on a fixed table", arguments: cases)
    func table(name: String, slug: String) {
        #expect(Slug.slugify(name) == slug)
    }

    @Test("a slug is valid exactly when slugify leaves it unchanged")
    func validity() {
        #expect(Slug.isValid("database-backup"))
        #expect(Slug.isValid("a_b-1"))
        #expect(!Slug.isValid("Database-Backup"))
        #expect(!Slug.isValid("-x"))
        #expect(!Slug.isValid(""))
    }
}
