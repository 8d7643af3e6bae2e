use super::*;
use crate::capture::CaptureReader;
use crate::packet::decode::decode;
use crate::packet::fields::Field;

/// Each predicate against frame 1 of `fixtures/hello-lola.pcap`: UDP
/// 127.0.0.1:40000 → 127.0.0.1:7456, TTL 64, DF, "Hello Lola", Ethernet
/// addresses all zero.
fn on_hello(cases: &[(&str, bool)]) {
    let mut reader = CaptureReader::open("fixtures/hello-lola.pcap".as_ref()).unwrap();
    let frame = reader.next_frame().unwrap().unwrap();
    let packet = decode(frame.link_type, frame.data, frame.orig_len as usize);
    let view = FrameView::new(&frame, &packet);
    for (text, want) in cases {
        let f = Filter::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(f.matches(&view), *want, "{text}");
    }
}

#[test]
fn errors_name_the_column() {
    let cases = [
        (
            "udp.port == ",
            13,
            "expected a value for udp.port at the end",
        ),
        ("(udp.port == 1", 15, "expected ')' at the end"),
        (
            "ip.src == 300.1.1.1",
            11,
            "ip.src is an IPv4 address, not '300.1.1.1'",
        ),
        (
            "udp.port contains 1",
            1,
            "udp.port is an unsigned integer: 'contains' needs bytes or text",
        ),
        ("udp.port == 1 udp", 15, "unexpected 'udp'"),
        ("udp.port $ 1", 10, "unexpected character '$'"),
        ("data.text == \"x", 14, "unterminated string"),
        (
            "udp.checksum.status == \"fine\"",
            24,
            "udp.checksum.status is a checksum status: good, bad, partial, absent, unverified, Wireshark's \"Good\", \"Bad\", \"Unverified\", \"Not present\", \"Illegal\" or 0-4, not \"fine\"",
        ),
        (
            "ip.ttl == 300",
            11,
            "300 is too big for ip.ttl, at most 255",
        ),
        ("ip.ttl == -1", 11, "-1 is too small for ip.ttl, at least 0"),
        ("udp.port in {1 2}", 16, "expected ',' or '}', found '2'"),
        (
            "udp.port in {1, 2,}",
            19,
            "expected a field or a value, found '}'",
        ),
        (
            "ip.addr == ::1",
            12,
            "ip.addr is an IPv4 address, not '::1'",
        ),
        (
            "ipv6.addr == 1.2.3.4",
            14,
            "ipv6.addr is an IPv6 address, not '1.2.3.4'",
        ),
        (
            "64 == ip.ttl",
            1,
            "the left side of '==' must be a field or a function, not a constant",
        ),
        (
            "len(data.data)",
            1,
            "a function has no presence to test: compare its value",
        ),
        (
            "ip.ttl == 08",
            11,
            "ip.ttl is an unsigned integer, not '08'",
        ),
        (
            "ip.ttl == 'ab'",
            11,
            "a character constant is one character between single quotes",
        ),
        (
            "data.data == \"\\q\"",
            15,
            "\\q is not a valid character escape sequence",
        ),
        (
            "data.data[0:-1] == 48",
            10,
            "\"0:-1\" is not a valid range (i:length, i-j, i, :length or i:)",
        ),
        (
            "ip.src#x == 1.2.3.4",
            7,
            "expected a digit or '[' after '#'",
        ),
        (
            "udp.srcport * 2 == 80000",
            20,
            "80000 is too big for udp.srcport, at most 65535",
        ),
        (
            "upper(data.data) == \"X\"",
            7,
            "upper() does not take data.data (bytes)",
        ),
        (
            "ip.flags.df & 1",
            13,
            "ip.flags.df (a flag (0 or 1)) and the constant (a flag (0 or 1)) take no arithmetic",
        ),
        ("nope(ip.ttl) == 1", 1, "function 'nope' does not exist"),
        (
            "ip.src == ipv6.src",
            8,
            "ip.src (an IPv4 address) and ipv6.src (an IPv6 address) do not compare",
        ),
        (
            "data.data matches \"(\"",
            19,
            "invalid regular expression: unclosed group",
        ),
    ];
    for (text, column, message) in cases {
        let e = Filter::parse(text).unwrap_err();
        assert_eq!((e.column, e.message.as_str()), (column, message), "{text}");
    }
}

#[test]
fn literals_follow_the_field_type() {
    assert!(Filter::parse("ip.dst == 127.0.0.0/8").is_ok());
    assert!(Filter::parse("ipv6.addr == ::1").is_ok());
    assert!(Filter::parse("data.data == 48:65:6c").is_ok());
    assert!(Filter::parse("eth.src == 00:00:00:00:00:00").is_ok());
    assert!(Filter::parse("udp.port in {53, 7456, 0x1d20}").is_ok());
    assert!(Filter::parse("not tcp or (udp and !ip.flags.df)").is_ok());
    assert_eq!(literal::hex_bytes("48:65:6c"), Some(vec![0x48, 0x65, 0x6c]));
    assert_eq!(literal::hex_bytes("0.1.0.d"), Some(vec![0, 1, 0, 0xd]));
    assert_eq!(
        literal::hex_bytes("0011.2233.4455").map(|b| b.len()),
        Some(6)
    );
    assert_eq!(literal::hex_bytes("4:650"), None);
    assert_eq!(
        literal::hex_bytes("0:0:0"),
        None,
        "one digit only between dots"
    );
    assert_eq!(literal::int("0100"), Some(64), "a leading zero is octal");
    assert_eq!(literal::int("0b101"), Some(5));
    assert_eq!(literal::int("08"), None);
    assert!(Filter::parse("ip.dst == 10.0.0.0/33").is_err());
}

#[test]
fn wireshark_meanings_hold_on_a_frame() {
    on_hello(&[
        ("udp.port != 7456", false),
        ("udp.port !== 7456", true),
        ("udp.port ~= 7456", true),
        ("udp.port === 7456", false),
        ("udp.port any_ne 7456", true),
        ("udp.port all_eq 7456", false),
        ("all udp.port > 1", true),
        ("all udp.port > 7456", false),
        ("any udp.port == 7456", true),
        ("not udp.port in {7456}", false),
        ("udp.port not in {7456}", false),
        ("udp.port not in {53}", true),
        ("udp.port in {7450..7460}", true),
        ("udp.port in {7450 .. 7455, 1}", false),
        ("udp.port & 0x02", false),
        ("udp.port & 2 == 0", true),
        ("ip.src < 127.0.0.2", true),
        ("ip.src == ip.dst", true),
        ("ip.src != ip.dst", false),
        ("ip.src > ip.dst", false),
        ("eth.src < 00:00:00:00:00:01", true),
        ("data.data < \"I\"", false),
        ("data.data > \"I\"", true),
        ("ip.flags.df < 2", false),
        ("ip.flags.df == 2", true),
        ("ip.flags.df == True", true),
        ("ip.flags.df == true", true),
        ("data.data[0:2] == \"He\"", true),
        ("data.data[1-3] == \"ell\"", true),
        ("data.data[-1] == \"a\"", true),
        ("data.data[:2] == 48:65", true),
        ("data.data[1:] contains \"ola\"", true),
        ("data.data[0,2:3] == \"Hllo\"", true),
        ("data.data[-3--1] == \"ola\"", true),
        ("data.data[0][0] == 48", true),
        ("data.data[100]", false),
        ("data.data[0]", true),
        ("data.data[0] == 0x48", true),
        ("udp.srcport == udp.dstport", false),
        ("udp.srcport > udp.dstport", true),
        ("{udp.srcport + 1} == 40001", true),
        ("udp.srcport + 1 == 40001", true),
        ("udp.srcport - 1 == 39999", true),
        ("-udp.srcport == -40000", true),
        ("udp.srcport / 3 == 13333", true),
        ("udp.srcport % 7 == 2", true),
        ("udp.srcport / 0 == 1", false),
        ("udp.srcport + 1", true),
        ("udp.srcport - 40000", false),
        ("4 * {udp.srcport + 3} > 0", true),
        ("data.data ~ \"Lo.a\"", true),
        ("data.data matches \"hello\"", true),
        ("data.data matches \"(?-i)hello\"", false),
        ("data.data matches \"^.{10}$\"", true),
        ("data.data == \"\\x48ello Lola\"", true),
        ("data.data == \"\\110ello Lola\"", true),
        ("data.data == r\"Hello Lola\"", true),
        ("ip.ttl == '@'", true),
        ("ip.ttl == '\\x40'", true),
        ("ip.ttl == '\\100'", true),
        ("ip.ttl == 0100", true),
        ("ip.ttl == 100", false),
        ("ip.ttl == 0b1000000", true),
        ("ip.ttl == 0X40", true),
        ("ip.ttl == +64", true),
        ("eth.src == 0000.0000.0000", true),
        ("eth.src == 000000000000", true),
        ("eth.src == 00-00-00-00-00-00", true),
        ("eth.src contains 00", true),
        ("eth.src[0:3] == 00:00:00", true),
        ("len(data.data) == 10", true),
        ("len(udp.port) == 2", true),
        ("count(udp.port) == 2", true),
        ("count(tcp.port) == 0", false),
        ("string(ip.ttl) == \"64\"", true),
        ("string(ip.src) contains \"127\"", true),
        ("max(udp.srcport, udp.dstport) == 40000", true),
        ("min(udp.srcport, udp.dstport) == 7456", true),
        ("abs(udp.srcport) == 40000", true),
        ("ip.src == 127.0.0.0/8", true),
        ("ip.src in {127.0.0.1..127.0.0.5}", true),
        ("ip.addr in {127.0.0.1/8}", true),
        ("eth.src in {00:00:00:00:00:00}", true),
        ("data.data in {\"Hello Lola\"}", true),
        ("data.len > -5", true),
        ("data.len == 10", true),
        ("udp.port in {udp.srcport}", true),
        ("ip.src#1 == 127.0.0.1", true),
        ("ip.src#2 == 127.0.0.1", false),
        ("ip.src#[1-2] == 127.0.0.1", true),
        ("ip.src#[-1] == 127.0.0.1", true),
        ("udp.srcport#1", true),
        ("udp.srcport#2", false),
        ("ip.ttl eq 64 && ip.ttl ne 1", true),
        ("ip.ttl == 64 and (udp)", true),
        ("tcp.flags & 0x02 || udp", true),
        ("frame.len == 52 and ip.ttl == 1 or udp", true),
        ("udp or ip.ttl == 1 and ip.ttl == 2", true),
        ("udp xor udp", false),
        ("udp ^^ tcp", true),
        ("udp ^^ udp ^^ udp", true),
        ("udp.dstport < udp.srcport <= 40000", true),
        ("!!udp", true),
        ("!!!udp", false),
        ("ip.ttl bitwise_and 64", true),
    ]);
}

#[test]
fn checksum_words_are_wiresharks_numbers() {
    // lola verifies checksums: on the seed capture the UDP checksum is good.
    let mut reader = CaptureReader::open("fixtures/seed-ipv4.pcap".as_ref()).unwrap();
    let frame = reader.next_frame().unwrap().unwrap();
    let packet = decode(frame.link_type, frame.data, frame.orig_len as usize);
    let view = FrameView::new(&frame, &packet);
    let holds = |t: &str| Filter::parse(t).unwrap().matches(&view);
    let status = crate::packet::fields::lookup("udp.checksum.status")
        .unwrap()
        .get(&view, 0);
    let n = literal::status_number(match status {
        Some(Value::Status(s)) => s,
        _ => "none",
    });
    assert!(holds(&format!("udp.checksum.status == {n}")));
    let name = ["Bad", "Good", "Unverified", "Not present", "Illegal"][n as usize];
    assert!(holds(&format!("udp.checksum.status == \"{name}\"")));
    assert!(holds(&format!(
        "udp.checksum.status == \"{}\"",
        name.to_lowercase()
    )));
    // The words a report prints read too: the IP header's is good (and
    // `correct`, as lola 0.1's reports said), the UDP one partial, which is
    // Wireshark's 2.
    for ok in [
        "ip.checksum.status == good",
        "ip.checksum.status == correct",
        "udp.checksum.status == partial",
    ] {
        assert!(holds(ok), "{ok}");
    }
    assert!(!holds("udp.checksum.status == absent"));
    assert!(!holds("ip.checksum.status == none"));
}

#[test]
fn deep_nesting_is_an_error_at_its_column_and_flat_chains_are_fine() {
    let deep = format!("{}udp{}", "(".repeat(10_300), ")".repeat(10_300));
    let e = Filter::parse(&deep).unwrap_err();
    assert_eq!(e.column, MAX_DEPTH + 1, "{e}");
    assert!(e.message.contains("nested more than"), "{e}");
    let nots = format!("{}udp", "!".repeat(25_100));
    assert!(Filter::parse(&nots).is_ok());
    let braces = format!("{}udp.port{} == 1", "{".repeat(5000), "}".repeat(5000));
    assert!(Filter::parse(&braces).is_err());
    let slices = format!("data.data{} == 48", "[0]".repeat(5000));
    assert!(Filter::parse(&slices).is_err());
    let sum = format!("udp.port{} == 1", " + 1".repeat(100_000));
    assert!(Filter::parse(&sum).is_err());
    let chain = vec!["udp.port == 7456"; 100_000].join(" && ");
    let f = Filter::parse(&chain).unwrap();
    assert_eq!(f.conjuncts().len(), 100_000);
    on_hello(&[(chain.as_str(), true)]);
    let or = vec!["udp.port == 1"; 100_000].join(" || ");
    on_hello(&[(or.as_str(), false)]);
    drop(f);
}

#[test]
fn a_long_name_is_quoted_once_and_cut() {
    let name = "x".repeat(1 << 20);
    let e = Filter::parse(&format!("{name} == 1")).unwrap_err();
    assert!(e.message.len() < 100, "{}", e.message.len());
}

#[test]
fn fields_and_conjuncts_read_every_form() {
    let f =
        Filter::parse("udp.port == 1 && len(data.data) > ip.ttl && !(eth.src[0] == 00)").unwrap();
    let names: Vec<&str> = f.fields().iter().map(|f| f.name).collect();
    assert_eq!(names, ["udp.port", "data.data", "ip.ttl", "eth.src"]);
    assert_eq!(f.conjuncts().len(), 3);
}

#[test]
fn decide_answers_from_the_fields_known_and_leaves_the_rest_unknown() {
    let known = |f: &Field, i: usize| -> Option<Option<Value<'static>>> {
        match f.name {
            "udp.dstport" => Some((i == 0).then_some(Value::Uint(7456))),
            _ => None,
        }
    };
    let truth = |t: &str| Filter::parse(t).unwrap().decide(&known);
    assert_eq!(truth("udp.dstport == 7456"), Truth::True);
    assert_eq!(truth("udp.dstport != 7456"), Truth::False);
    assert_eq!(truth("udp.dstport == 1 && ip.ttl == 64"), Truth::False);
    assert_eq!(truth("udp.dstport == 7456 || ip.ttl == 64"), Truth::True);
    assert_eq!(truth("udp.dstport == 7456 && ip.ttl == 64"), Truth::Unknown);
    assert_eq!(truth("udp.dstport in {1, 7456}"), Truth::True);
    assert_eq!(truth("udp.dstport ^^ udp.dstport"), Truth::False);
    assert_eq!(truth("udp.dstport + 1 == 7457"), Truth::Unknown);
}

#[test]
fn a_protocol_compares_its_own_bytes_and_contains_what_it_carries() {
    // Checked against tshark 4.0 on this frame: `len(udp) == 8`,
    // `udp == 9c:40:1d:20:00:12:6b:a4`, `udp[8:2]` out of range; `udp contains
    // "Lola"` and `udp matches "Lola"` search the payload too.
    on_hello(&[
        ("len(udp) == 8", true),
        ("len(udp) == 18", false),
        ("len(ip) == 20", true),
        ("len(eth) == 14", true),
        ("len(frame) == 52", true),
        ("len(data) == 10", true),
        ("udp == 9c:40:1d:20:00:12:6b:a4", true),
        (
            "udp == 9c:40:1d:20:00:12:6b:a4:48:65:6c:6c:6f:20:4c:6f:6c:61",
            false,
        ),
        ("udp > 9c:40:1d:20:00:12:6b:a4", false),
        ("udp[0:] == 9c:40:1d:20:00:12:6b:a4", true),
        ("udp[-1:1] == a4", true),
        ("udp[8:2] == 48:65", false),
        ("udp[8:2]", false),
        ("udp contains \"Lola\"", true),
        ("udp matches \"Lola\"", true),
        ("udp#1 == 9c:40:1d:20:00:12:6b:a4", true),
        ("ip == 45:00", false),
        ("ip[0:2] == 45:00", true),
    ]);
}

#[test]
fn a_regular_expression_reads_bytes_not_characters() {
    // Wireshark compiles with PCRE2_NEVER_UTF: `\xf6` is the byte 0xf6 (this
    // DNS payload's first), not the character U+00F6 (0xc3 0xb6 in UTF-8).
    let path = "fixtures/corpus/tests_dns-badcookie.pcap";
    let mut reader = CaptureReader::open(path.as_ref()).unwrap();
    let frame = reader.next_frame().unwrap().unwrap();
    let packet = decode(frame.link_type, frame.data, frame.orig_len as usize);
    let view = FrameView::new(&frame, &packet);
    let holds = |t: &str| Filter::parse(t).unwrap().matches(&view);
    assert!(holds(r#"udp.payload matches "^\\xf6""#));
    assert!(!holds(r#"udp.payload matches "^\\xc3\\xb6""#));
}
