//! Secrecy and circulation markings in every written form (issue 11 §1): a table of
//! marking forms and look-alike sentences placed in a realistic Decree-30 document, a
//! property test that case, letter spacing and normalisation form never change the
//! verdict, and PDFs from two producers (the project's own writer with annotations and
//! form fields built here, and headless Chromium, see tests/tools/marking_pdfs.sh).

use lopdf::{Document, Object, Stream, dictionary};
use unicode_normalization::UnicodeNormalization;

use vanban::config::PublicationSettings;
use vanban::decree30::{self, Metadata, SourceLine};
use vanban::doctypes::DocTypeTable;
use vanban::extract::{Extraction, extract_pdf};
use vanban::markings::{self, Grade, Marking, Origin, SecrecyLevel};
use vanban::pdf::writer::{Decree30Page, decree30_pdf};
use vanban::policy::{self, Request};
use vanban::store::Status;

fn types() -> &'static DocTypeTable {
    DocTypeTable::builtin()
}

/// The verdict for a whole document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    Secret(SecrecyLevel),
    Internal,
    /// Held for review: a marking-like token not placed with certainty.
    Uncertain,
    None,
}
use SecrecyLevel::{Mat, ToiMat, TuyetMat};
use Verdict::{Internal, None as Clean, Secret, Uncertain};

fn verdict(meta: &Metadata) -> Verdict {
    if let Some(label) = &meta.secrecy.value {
        return match markings::grade_label(label) {
            Some(Grade::Certain(Marking::Secret(level))) => Secret(level),
            other => panic!("secrecy {label:?} is not a level: {other:?}"),
        };
    }
    if meta.internal_circulation.value == Some(true) {
        return Internal;
    }
    if meta.markings.iter().any(|f| f.grade == Grade::Uncertain) {
        return Uncertain;
    }
    Clean
}

/// Where a row's text goes in the document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum At {
    /// First line of page 1, a box above the header.
    Top,
    /// A box in the left column, between the issuer and the number.
    Left,
    /// A box in the right column, under the motto.
    Right,
    /// Replaces the number line (the marking shares its line).
    NumberLine,
    /// Replaces the motto line.
    MottoLine,
    /// Replaces the date line.
    DateLine,
    /// Replaces the abstract under the title.
    Abstract,
    /// A line of its own in page 1's body.
    Body,
    /// Replaces a sentence of page 1's body.
    Sentence,
    /// The last line of page 1.
    Foot,
    /// A line of its own in page 2's body.
    Page2,
    /// The last line of page 2.
    Page2Foot,
    /// An annotation (stamp) on page 1.
    Stamp,
    /// A form field's value.
    Field,
    /// Text drawn at an angle.
    Rotated,
}

/// (where, text, expected). `{…}` marks what the property test varies; `\n` splits lines.
const TABLE: &[(At, &str, Verdict)] = &[
    // MẬT
    (At::Top, "{MẬT}", Secret(Mat)),
    (At::Top, "{Mật}", Secret(Mat)),
    (At::Top, "{mật}", Secret(Mat)),
    (At::Right, "{M Ậ T}", Secret(Mat)),
    (At::Left, "{MẬT}", Secret(Mat)),
    (At::NumberLine, "Số: 339/BC-UBND   {MẬT}", Secret(Mat)),
    (At::NumberLine, "{MẬT}   Số: 339/BC-UBND", Secret(Mat)),
    (At::Top, "{MẬT}   Bản số: 05", Secret(Mat)),
    (At::Top, "{MẬT} - Bản số 05", Secret(Mat)),
    (At::Top, "[ {MẬT} ]", Secret(Mat)),
    (At::Top, "*** {MẬT} ***", Secret(Mat)),
    (At::Right, "║ {MẬT} ║", Secret(Mat)),
    (At::Right, "┌─────┐ {MẬT} └─────┘", Secret(Mat)),
    (At::Right, "{Độ mật: Mật}", Secret(Mat)),
    (At::Right, "{Mức độ mật: Mật}", Secret(Mat)),
    (At::Right, "{Độ mật} - {Mật}", Secret(Mat)),
    (At::Top, "{TÀI LIỆU MẬT}", Secret(Mat)),
    (At::Top, "{VĂN BẢN MẬT}", Secret(Mat)),
    (At::Foot, "{MẬT}", Secret(Mat)),
    (At::Top, "{MẬT} (đóng dấu)", Secret(Mat)),
    (At::Right, "{M}\n{Ậ}\n{T}", Secret(Mat)),
    (
        At::DateLine,
        "Nam Chính, ngày 13 tháng 9 năm 2021   {MẬT}",
        Secret(Mat),
    ),
    (
        At::MottoLine,
        "Độc lập - Tự do - Hạnh phúc   {MẬT}",
        Secret(Mat),
    ),
    (At::Top, "{MẬT} - KHẨN", Secret(Mat)),
    (At::Top, "HỎA TỐC - {MẬT}", Secret(Mat)),
    (At::Right, "{Độ mật: Mật}   Độ khẩn: Khẩn", Secret(Mat)),
    (At::Top, "{MẬT} - {LƯU HÀNH NỘI BỘ}", Secret(Mat)),
    (At::Stamp, "{MẬT}", Secret(Mat)),
    (At::Field, "{Mật}", Secret(Mat)),
    (At::Rotated, "{MẬT}", Secret(Mat)),
    // TỐI MẬT
    (At::Top, "{TỐI MẬT}", Secret(ToiMat)),
    (At::Right, "{T Ố I  M Ậ T}", Secret(ToiMat)),
    (At::Left, "{TỐI}\n{MẬT}", Secret(ToiMat)),
    (At::Top, "{Tối mật}", Secret(ToiMat)),
    (At::Right, "{Độ mật: Tối mật}", Secret(ToiMat)),
    (At::Top, "{TỐI MẬT}  Bản số: 02/10", Secret(ToiMat)),
    (At::NumberLine, "Số: 339/BC-UBND {Tối mật}", Secret(ToiMat)),
    (At::Stamp, "{TỐI MẬT}", Secret(ToiMat)),
    // TUYỆT MẬT
    (At::Top, "{TUYỆT MẬT}", Secret(TuyetMat)),
    (At::Right, "{tuyệt mật}", Secret(TuyetMat)),
    (At::Top, "{T U Y Ệ T  M Ậ T}", Secret(TuyetMat)),
    (At::Stamp, "{TUYỆT MẬT}", Secret(TuyetMat)),
    (At::Foot, "{Tuyệt mật}", Secret(TuyetMat)),
    (At::Right, "{TUYỆT}\n{MẬT}", Secret(TuyetMat)),
    (At::Field, "{Tuyệt mật}", Secret(TuyetMat)),
    (At::Rotated, "{TUYỆT MẬT}", Secret(TuyetMat)),
    // LƯU HÀNH NỘI BỘ
    (At::Top, "{LƯU HÀNH NỘI BỘ}", Internal),
    (At::Top, "{TÀI LIỆU LƯU HÀNH NỘI BỘ}", Internal),
    (At::Foot, "{Tài liệu lưu hành nội bộ}", Internal),
    (At::Right, "{L Ư U  H À N H  N Ộ I  B Ộ}", Internal),
    (At::Right, "{LƯU HÀNH}\n{NỘI BỘ}", Internal),
    (At::Top, "({Lưu hành nội bộ})", Internal),
    (At::Top, "{CHỈ LƯU HÀNH NỘI BỘ}", Internal),
    (At::Top, "{TÀI LIỆU NỘI BỘ}", Internal),
    (At::Field, "{Lưu hành nội bộ}", Internal),
    (At::Top, "{LƯU HÀNH TRONG NỘI BỘ}", Internal),
    (At::Left, "{Lưu hành nội bộ}", Internal),
    (At::Stamp, "{Tài liệu lưu hành nội bộ}", Internal),
    // Marking-like, not certain: held for review.
    (At::Top, "{MAT}", Uncertain),
    (At::Top, "{MẶT}", Uncertain),
    (At::Top, "{MẤT}", Uncertain),
    (At::Right, "{Độ mật:}", Uncertain),
    (At::Right, "{Độ mật: Cấp 2}", Uncertain),
    (At::Right, "{Độ mật: ........}", Uncertain),
    (At::Top, "{LƯU HÀNH NỘ}", Uncertain),
    (At::Top, "{LƯU HÀNH NỘI B}", Uncertain),
    (At::Page2, "{MẬT}", Uncertain),
    (At::Page2Foot, "{Lưu hành nội bộ}", Uncertain),
    (At::Body, "{MẬT}", Uncertain),
    (At::Top, "{NỘI BỘ}", Uncertain),
    (At::Top, "{CONFIDENTIAL}", Uncertain),
    (At::Stamp, "{TOP SECRET}", Uncertain),
    (At::Top, "{TỐI M?T}", Uncertain),
    (At::Top, "{M\u{FFFD}T}", Uncertain),
    (At::Top, "{LUU HANH NOI BO}", Uncertain),
    (At::Top, "{TOI MAT}", Uncertain),
    (At::Stamp, "{Mat}", Uncertain),
    (At::Field, "{Độ mật: ???}", Uncertain),
    (At::Top, "{BÍ MẬT}", Uncertain),
    (At::Stamp, "{Bí mật nhà nước}", Uncertain),
    (
        At::Abstract,
        "Về việc ban hành quy chế quản lý tài liệu\n{mật}",
        Uncertain,
    ),
    // Look-alikes in running text: not a marking, never held for one.
    (
        At::Sentence,
        "Thực hiện Luật Bảo vệ bí {mật} nhà nước năm 2018.",
        Clean,
    ),
    (
        At::Sentence,
        "Quy chế {nội bộ} cơ quan được ban hành kèm theo.",
        Clean,
    ),
    (
        At::Sentence,
        "Tăng cường bảo {mật} thông tin trên môi trường mạng.",
        Clean,
    ),
    (At::Sentence, "{Mật} khẩu được thay đổi định kỳ.", Clean),
    (
        At::Sentence,
        "{Mật} độ dân số của xã là 1.200 người/km2.",
        Clean,
    ),
    (
        At::Sentence,
        "Sản phẩm {mật} ong của xã được công nhận OCOP.",
        Clean,
    ),
    (
        At::Sentence,
        "Tài liệu có dấu \"{Lưu hành nội bộ}\" không được đăng tải lên trang thông tin.",
        Clean,
    ),
    (
        At::Abstract,
        "V/v tăng cường công tác bảo vệ bí {mật} nhà nước",
        Clean,
    ),
    (
        At::Sentence,
        "{Mặt} trận Tổ quốc xã phối hợp thực hiện.",
        Clean,
    ),
    (At::Sentence, "Nhiều hộ bị {mất} mùa do bão.", Clean),
    (At::Body, "{Mặt}", Clean),
    (At::Abstract, "{QUY CHẾ BẢO VỆ BÍ MẬT NHÀ NƯỚC}", Clean),
    (At::Right, "{Độ mật: Thường}", Clean),
    (
        At::Sentence,
        "{Độ mật} của tài liệu được xác định theo quy định của pháp luật.",
        Clean,
    ),
    (At::Left, "{PHÒNG NỘI VỤ}", Clean),
    (
        At::Sentence,
        "Cán bộ phụ trách văn thư, lưu trữ, cơ yếu và {mật} mã của xã.",
        Clean,
    ),
    (
        At::Page2,
        "Mẫu dấu \"{TUYỆT MẬT}\" được quy định tại Thông tư số 24/2020/TT-BCA.",
        Clean,
    ),
    (
        At::Sentence,
        "Văn bản được {lưu hành nội bộ} trong cơ quan theo quy chế.",
        Clean,
    ),
    (
        At::Sentence,
        "Mối quan hệ {mật} thiết giữa các ngành.",
        Clean,
    ),
    (At::Right, "{Độ mật: Không}", Clean),
    // A table heading wrapped in its cell: "Mật" / "độ xây dựng".
    (At::Body, "{Mật}\nđộ xây dựng", Clean),
    (
        At::Abstract,
        "Quy định về tài liệu\n{lưu hành nội bộ}\ntrong cơ quan",
        Clean,
    ),
];

/// The document the rows are placed in: (text, page, block start).
fn template() -> Vec<(String, u32, bool)> {
    let p1 = [
        ("UBND HUYỆN TRỰC NINH", true),
        ("ỦY BAN NHÂN DÂN XÃ NAM CHÍNH", false),
        ("Số: 339/BC-UBND", false),
        ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", true),
        ("Độc lập - Tự do - Hạnh phúc", false),
        ("Nam Chính, ngày 13 tháng 9 năm 2021", false),
        ("BÁO CÁO", true),
        (
            "Tình hình hoạt động của trang thông tin điện tử xã Nam Chính năm 2021",
            false,
        ),
        (
            "Thực hiện Kế hoạch số 116/KH-UBND ngày 24/9/2021 của Ủy ban nhân dân huyện về việc báo cáo kết quả, Ủy ban nhân dân xã báo cáo như sau:",
            true,
        ),
        (
            "1. Trang thông tin điện tử của xã đã cập nhật đầy đủ các văn bản chỉ đạo, điều hành.",
            true,
        ),
        (
            "2. Việc quản lý tài khoản quản trị được thực hiện theo đúng quy định của pháp luật.",
            true,
        ),
        ("Nơi nhận:", true),
        ("- UBND huyện;", false),
        ("- Lưu: VT.", false),
        ("TM. ỦY BAN NHÂN DÂN", true),
        ("CHỦ TỊCH", false),
        ("Nguyễn Bá Dũng", true),
    ];
    let p2 = [
        (
            "3. Kết quả cụ thể của từng chuyên mục được tổng hợp tại biểu kèm theo báo cáo này.",
            true,
        ),
        (
            "4. Kiến nghị: đề nghị Ủy ban nhân dân huyện tiếp tục hỗ trợ kinh phí duy trì trang.",
            true,
        ),
        ("Trang 2", true),
    ];
    p1.iter()
        .map(|&(t, b)| (t.to_string(), 1, b))
        .chain(p2.iter().map(|&(t, b)| (t.to_string(), 2, b)))
        .collect()
}

/// How the varied part of a row is written.
#[derive(Debug, Clone, Copy)]
struct Variation {
    case: u8,
    spaced: bool,
    nfd: bool,
    seed: u64,
}

const AS_WRITTEN: Variation = Variation {
    case: 0,
    spaced: false,
    nfd: false,
    seed: 0,
};

fn vary(text: &str, v: Variation) -> String {
    let mut rng = fastrand::Rng::with_seed(v.seed);
    let cased: String = match v.case {
        1 => text.to_uppercase(),
        2 => text.to_lowercase(),
        3 => text
            .split(' ')
            .map(|w| {
                let mut cs = w.chars();
                match cs.next() {
                    Some(first) => first
                        .to_uppercase()
                        .chain(cs.flat_map(char::to_lowercase))
                        .collect(),
                    None => String::new(),
                }
            })
            .collect::<Vec<_>>()
            .join(" "),
        4 => text
            .nfc()
            .map(|c| {
                if rng.bool() {
                    c.to_uppercase().collect::<String>()
                } else {
                    c.to_lowercase().collect::<String>()
                }
            })
            .collect(),
        _ => text.to_string(),
    };
    let spaced = if v.spaced {
        cased
            .nfc()
            .collect::<String>()
            .split(' ')
            .filter(|w| !w.is_empty())
            .map(|w| w.chars().map(String::from).collect::<Vec<_>>().join(" "))
            .collect::<Vec<_>>()
            .join("   ")
    } else {
        cased
    };
    if v.nfd {
        spaced.nfd().collect()
    } else {
        spaced.nfc().collect()
    }
}

/// The row's lines with the `{…}` parts varied.
fn row_lines(text: &str, v: Variation) -> Vec<String> {
    text.split('\n')
        .map(|line| {
            let mut out = String::new();
            let mut rest = line;
            while let Some(open) = rest.find('{') {
                out.push_str(&rest[..open]);
                let close = rest[open..].find('}').expect("closing brace") + open;
                out.push_str(&vary(&rest[open + 1..close], v));
                rest = &rest[close + 1..];
            }
            out.push_str(rest);
            out
        })
        .collect()
}

/// The document with the row placed: content lines and stamp lines.
fn place(at: At, text: &str, v: Variation) -> (Vec<SourceLine>, Vec<markings::Line>) {
    let mut doc = template();
    let rows = row_lines(text, v);
    let insert = |doc: &mut Vec<(String, u32, bool)>, index: usize, page: u32| {
        for (k, line) in rows.iter().enumerate() {
            doc.insert(index + k, (line.clone(), page, k == 0));
        }
    };
    let replace = |doc: &mut Vec<(String, u32, bool)>, index: usize| {
        let (_, page, block) = doc.remove(index);
        for (k, line) in rows.iter().enumerate() {
            doc.insert(index + k, (line.clone(), page, block && k == 0));
        }
    };
    let mut stamps = Vec::new();
    let last = doc.len() - 1;
    match at {
        At::Top => insert(&mut doc, 0, 1),
        At::Left => insert(&mut doc, 2, 1),
        At::Right => insert(&mut doc, 5, 1),
        At::NumberLine => replace(&mut doc, 2),
        At::MottoLine => replace(&mut doc, 4),
        At::DateLine => replace(&mut doc, 5),
        At::Abstract => replace(&mut doc, 7),
        At::Body => insert(&mut doc, 10, 1),
        At::Sentence => replace(&mut doc, 10),
        At::Foot => insert(&mut doc, 17, 1),
        At::Page2 => insert(&mut doc, 18, 2),
        At::Page2Foot => insert(&mut doc, last, 2),
        At::Stamp | At::Field | At::Rotated => {
            let origin = match at {
                At::Stamp => Origin::Annotation,
                At::Field => Origin::FormField,
                _ => Origin::Rotated,
            };
            stamps = rows
                .iter()
                .map(|t| markings::Line {
                    text: t.clone(),
                    page: 1,
                    block_start: true,
                    origin,
                })
                .collect();
        }
    }
    let lines = doc
        .into_iter()
        .map(|(text, page, block_start)| SourceLine {
            text,
            page,
            block_start,
        })
        .collect();
    (lines, stamps)
}

/// Parses the placed document as extraction does: Decree-30 parse of the content lines,
/// then the stamp findings.
fn parse_placed(at: At, text: &str, v: Variation) -> Metadata {
    let (lines, stamps) = place(at, text, v);
    let mut meta = decree30::parse(&lines, types());
    decree30::apply_markings(&mut meta, markings::detect(&stamps));
    meta
}

#[test]
fn markings_table_has_every_kind_of_row() {
    assert!(TABLE.len() >= 60, "{} rows", TABLE.len());
    for expected in [
        Secret(Mat),
        Secret(ToiMat),
        Secret(TuyetMat),
        Internal,
        Uncertain,
        Clean,
    ] {
        assert!(
            TABLE.iter().filter(|r| r.2 == expected).count() >= 5,
            "too few rows for {expected:?}"
        );
    }
}

#[test]
fn markings_table_verdicts() {
    let mut failures = Vec::new();
    for &(at, text, expected) in TABLE {
        let meta = parse_placed(at, text, AS_WRITTEN);
        let got = verdict(&meta);
        if got != expected {
            failures.push(format!(
                "{at:?} {text:?}: expected {expected:?}, got {got:?} ({:?})",
                meta.markings
            ));
        }
        // The header is still read around the marking.
        if meta.number_symbol().as_deref() != Some("339/BC-UBND") {
            failures.push(format!(
                "{at:?} {text:?}: number {:?}",
                meta.number_symbol()
            ));
        }
        if !matches!(at, At::Left)
            && meta.issuer.value.as_deref() != Some("Ủy ban nhân dân xã Nam Chính")
        {
            failures.push(format!("{at:?} {text:?}: issuer {:?}", meta.issuer.value));
        }
        // Every doubt carries its evidence and a reason for the clerk.
        for finding in &meta.markings {
            assert!(!finding.evidence.is_empty() && !finding.reason.is_empty());
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn markings_case_spacing_and_normalisation_never_change_the_verdict() {
    let mut rng = fastrand::Rng::with_seed(0x5EC2E7);
    let mut failures = Vec::new();
    for &(at, text, expected) in TABLE {
        for _ in 0..24 {
            let v = Variation {
                case: rng.u8(0..5),
                spaced: rng.bool(),
                nfd: rng.bool(),
                seed: rng.u64(..),
            };
            let got = verdict(&parse_placed(at, text, v));
            if got != expected {
                failures.push(format!(
                    "{at:?} {:?} ({v:?}): expected {expected:?}, got {got:?}",
                    row_lines(text, v)
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn markings_grade_short_labels() {
    for (value, expected) in [
        ("Mật", Some(Grade::Certain(Marking::Secret(Mat)))),
        ("MAT", Some(Grade::Uncertain)),
        ("Tối mật", Some(Grade::Certain(Marking::Secret(ToiMat)))),
        ("TUYỆT MẬT", Some(Grade::Certain(Marking::Secret(TuyetMat)))),
        ("Độ mật: Mật", Some(Grade::Certain(Marking::Secret(Mat)))),
        (
            "Độ mật: Tối mật",
            Some(Grade::Certain(Marking::Secret(ToiMat))),
        ),
        ("Lưu hành nội bộ", Some(Grade::Certain(Marking::Internal))),
        ("Nội bộ", Some(Grade::Certain(Marking::Internal))),
        ("Độ mật: ???", Some(Grade::Uncertain)),
        ("Confidential", Some(Grade::Uncertain)),
        ("Thường", None),
        ("", None),
        ("Công văn", None),
        ("Thực hiện Luật Bảo vệ bí mật nhà nước", None),
    ] {
        assert_eq!(markings::grade_label(value), expected, "{value:?}");
    }
}

// ---- PDFs -------------------------------------------------------------------------------

fn settings() -> PublicationSettings {
    PublicationSettings {
        public_types: ["Báo cáo", "Quyết định", "Thông báo", "Kế hoạch", "Công văn"]
            .iter()
            .map(|s| s.to_string())
            .collect(),
        require_trusted_signature: false,
    }
}

fn verdict_of(x: &Extraction) -> Verdict {
    verdict(&x.metadata)
}

/// Extracts and decides as ingest does; the decision is never Published for a marked or
/// doubtful document.
fn check_pdf(name: &str, bytes: &[u8], expected: Verdict) -> (Extraction, policy::Decision) {
    let x = extract_pdf(bytes, types()).unwrap_or_else(|e| panic!("{name}: {e}"));
    let decision = policy::decide(&x, &settings(), Request::Publish);
    assert_eq!(
        verdict_of(&x),
        expected,
        "{name}: markings {:#?}\ntext:\n{}",
        x.metadata.markings,
        x.text
    );
    let json = x.to_json();
    match expected {
        Clean => {
            assert!(
                !decision.reason.contains("mật") && !decision.reason.contains("nội bộ"),
                "{name}: held for a marking: {}",
                decision.reason
            );
            assert_eq!(json["marking_doubts"], serde_json::json!([]), "{name}");
        }
        _ => {
            assert_ne!(decision.status, Status::Published, "{name}");
            assert_eq!(decision.status, Status::NeedsReview, "{name}");
        }
    }
    if expected == Uncertain {
        assert!(
            decision
                .reason
                .contains("Nghi có dấu chỉ độ mật / lưu hành nội bộ chưa xác định"),
            "{name}: {}",
            decision.reason
        );
        assert!(!json["marking_doubts"].as_array().expect("array").is_empty());
    }
    (x, decision)
}

fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/tests/fixtures/markings/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn markings_chromium_pdfs() {
    for (name, expected) in [
        ("chromium_table_cell.pdf", Secret(Mat)),
        ("chromium_rotated_stamp.pdf", Secret(ToiMat)),
        ("chromium_box_motto.pdf", Secret(TuyetMat)),
        ("chromium_footer.pdf", Internal),
        ("chromium_folded.pdf", Uncertain),
        ("chromium_clean.pdf", Clean),
    ] {
        let (x, decision) = check_pdf(name, &fixture(name), expected);
        // The header is still read around the marking.
        assert_eq!(
            x.metadata.number_symbol().as_deref(),
            Some("339/BC-UBND"),
            "{name}"
        );
        if expected == Clean {
            assert_eq!(
                decision.status,
                Status::Published,
                "{name}: {}",
                decision.reason
            );
        }
    }
}

#[test]
fn markings_reportlab_pdfs() {
    for (name, expected) in [
        ("reportlab_rotated_stamp.pdf", Secret(TuyetMat)),
        ("reportlab_table_cell.pdf", Secret(Mat)),
        ("reportlab_form_field_folded.pdf", Uncertain),
        ("reportlab_clean.pdf", Clean),
    ] {
        let (x, _) = check_pdf(name, &fixture(name), expected);
        assert_eq!(
            x.metadata.number_symbol().as_deref(),
            Some("339/BC-UBND"),
            "{name}"
        );
    }
}

/// A Decree-30 report written by the project's own PDF writer.
fn writer_report(markings: &[&str], extra_paragraph: &str) -> Vec<u8> {
    let mut paragraphs = vec![
        "Thực hiện Kế hoạch số 116/KH-UBND ngày 24/9/2021 của Ủy ban nhân dân huyện, Ủy ban nhân dân xã báo cáo kết quả như sau:".to_string(),
        "1. Trang thông tin điện tử của xã đã cập nhật đầy đủ các văn bản chỉ đạo, điều hành.".to_string(),
    ];
    if !extra_paragraph.is_empty() {
        paragraphs.push(extra_paragraph.to_string());
    }
    decree30_pdf(
        &Decree30Page {
            issuer_lines: vec![
                "UBND HUYỆN TRỰC NINH".into(),
                "ỦY BAN NHÂN DÂN XÃ NAM CHÍNH".into(),
            ],
            number_symbol: "339/BC-UBND".into(),
            place_date: "Nam Chính, ngày 13 tháng 9 năm 2021".into(),
            markings: markings.iter().map(|m| m.to_string()).collect(),
            type_title: "BÁO CÁO".into(),
            abstract_text: "Tình hình hoạt động của trang thông tin điện tử xã Nam Chính năm 2021"
                .into(),
            paragraphs,
            recipients: vec!["UBND huyện;".into(), "Lưu: VT.".into()],
            signer_block: vec!["TM. ỦY BAN NHÂN DÂN".into(), "CHỦ TỊCH".into()],
            signer_name: "Nguyễn Bá Dũng".into(),
        },
        "Báo cáo",
    )
}

/// A simple font whose codes 0x21… stand for the characters of `alphabet`, with a
/// ToUnicode map: enough for an appearance stream to carry Vietnamese text.
fn unicode_font(doc: &mut Document, alphabet: &[char]) -> lopdf::ObjectId {
    let mut cmap = String::from(
        "/CIDInit /ProcSet findresource begin 12 dict begin begincmap\n/CMapName /Markings def\n1 begincodespacerange <00> <FF> endcodespacerange\n",
    );
    cmap.push_str(&format!("{} beginbfchar\n", alphabet.len()));
    for (i, c) in alphabet.iter().enumerate() {
        let utf16: String = c
            .encode_utf16(&mut [0; 2])
            .iter()
            .map(|u| format!("{u:04X}"))
            .collect();
        cmap.push_str(&format!("<{:02X}> <{utf16}>\n", 0x21 + i));
    }
    cmap.push_str("endbfchar\nendcmap CMapName currentdict /CMap defineresource pop end end\n");
    let to_unicode = doc.add_object(Stream::new(dictionary! {}, cmap.into_bytes()));
    doc.add_object(dictionary! {
        "Type" => "Font",
        "Subtype" => "Type1",
        "BaseFont" => "Helvetica",
        "ToUnicode" => to_unicode,
    })
}

fn encode(alphabet: &[char], text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| {
            if c == ' ' {
                return 0x20;
            }
            let i = alphabet
                .iter()
                .position(|&a| a == c)
                .expect("in the alphabet");
            0x21 + i as u8
        })
        .collect()
}

/// An appearance stream drawing `text` (rotated by `angle` degrees) with `font`.
fn appearance(
    doc: &mut Document,
    font: lopdf::ObjectId,
    alphabet: &[char],
    text: &str,
    angle: f32,
) -> lopdf::ObjectId {
    let (s, c) = angle.to_radians().sin_cos();
    let mut content = format!(
        "q 1 0 0 RG 2 w 1 1 158 38 re S BT /F0 16 Tf {c:.4} {s:.4} {:.4} {c:.4} 12 12 Tm <",
        -s
    )
    .into_bytes();
    content.extend_from_slice(hex::encode_upper(encode(alphabet, text)).as_bytes());
    content.extend_from_slice(b"> Tj ET Q");
    doc.add_object(Stream::new(
        dictionary! {
            "Type" => "XObject",
            "Subtype" => "Form",
            "BBox" => vec![0.into(), 0.into(), 160.into(), 40.into()],
            "Resources" => dictionary! { "Font" => dictionary! { "F0" => font } },
        },
        content,
    ))
}

/// Adds annotations (stamp, free text) and form fields to page 1 of `bytes`.
enum Extra<'a> {
    /// An annotation of this subtype whose appearance draws the text at this angle.
    Annotation(&'a str, &'a str, f32),
    /// A text field with this name and value, without an appearance stream.
    Field(&'a str, &'a str),
}

fn with_extras(bytes: &[u8], extras: &[Extra]) -> Vec<u8> {
    let mut doc = Document::load_mem(bytes).expect("writer output loads");
    let page_id = *doc.get_pages().get(&1).expect("page 1");
    let mut alphabet: Vec<char> = Vec::new();
    for extra in extras {
        let text = match extra {
            Extra::Annotation(_, t, _) => *t,
            Extra::Field(..) => "",
        };
        for c in text.chars() {
            if c != ' ' && !alphabet.contains(&c) {
                alphabet.push(c);
            }
        }
    }
    let font = unicode_font(&mut doc, &alphabet);
    let mut annots = Vec::new();
    let mut fields = Vec::new();
    for (k, extra) in extras.iter().enumerate() {
        let y = 760.0 - 50.0 * k as f32;
        match extra {
            Extra::Annotation(subtype, text, angle) => {
                let ap = appearance(&mut doc, font, &alphabet, text, *angle);
                let id = doc.add_object(dictionary! {
                    "Type" => "Annot",
                    "Subtype" => Object::Name(subtype.as_bytes().to_vec()),
                    "Rect" => vec![400.into(), y.into(), 560.into(), (y + 40.0).into()],
                    "F" => 4,
                    "AP" => dictionary! { "N" => ap },
                });
                annots.push(Object::from(id));
            }
            Extra::Field(name, value) => {
                let id = doc.add_object(dictionary! {
                    "Type" => "Annot",
                    "Subtype" => "Widget",
                    "FT" => "Tx",
                    "T" => Object::string_literal(utf16(name)),
                    "V" => Object::string_literal(utf16(value)),
                    "Rect" => vec![400.into(), y.into(), 560.into(), (y + 20.0).into()],
                    "F" => 4,
                    "P" => page_id,
                });
                annots.push(Object::from(id));
                fields.push(Object::from(id));
            }
        }
    }
    doc.get_dictionary_mut(page_id)
        .expect("page")
        .set("Annots", annots);
    if !fields.is_empty() {
        let acroform = doc.add_object(dictionary! { "Fields" => fields });
        let root = doc
            .trailer
            .get(b"Root")
            .and_then(Object::as_reference)
            .expect("root");
        doc.get_dictionary_mut(root)
            .expect("catalog")
            .set("AcroForm", acroform);
    }
    let mut out = Vec::new();
    doc.save_to(&mut out).expect("in memory");
    out
}

fn utf16(text: &str) -> Vec<u8> {
    let mut out = vec![0xFE, 0xFF];
    for unit in text.encode_utf16() {
        out.extend_from_slice(&unit.to_be_bytes());
    }
    out
}

#[test]
fn markings_writer_pdfs_with_boxes_stamps_and_fields() {
    let clean_sentence = "2. Thực hiện Luật Bảo vệ bí mật nhà nước, không đăng tải tài liệu thuộc danh mục bí mật nhà nước; quy chế nội bộ cơ quan về bảo mật thông tin và mật khẩu được tuân thủ.";
    let clean = writer_report(&[], clean_sentence);
    let cases: Vec<(&str, Vec<u8>, Verdict)> = vec![
        // The marking as a text box under the number.
        (
            "box under the number",
            writer_report(&["MẬT"], ""),
            Secret(Mat),
        ),
        (
            "letter-spaced box",
            writer_report(&["T Ố I  M Ậ T"], ""),
            Secret(ToiMat),
        ),
        (
            "field-like box",
            writer_report(&["Độ mật: Tuyệt mật"], ""),
            Secret(TuyetMat),
        ),
        // An absolutely positioned stamp annotation, drawn at an angle.
        (
            "rotated stamp annotation",
            with_extras(&clean, &[Extra::Annotation("Stamp", "TỐI MẬT", 20.0)]),
            Secret(ToiMat),
        ),
        (
            "upright stamp annotation",
            with_extras(&clean, &[Extra::Annotation("Stamp", "MẬT", 0.0)]),
            Secret(Mat),
        ),
        (
            "free-text annotation",
            with_extras(
                &clean,
                &[Extra::Annotation("FreeText", "Lưu hành nội bộ", 0.0)],
            ),
            Internal,
        ),
        (
            "form field without appearance",
            with_extras(&clean, &[Extra::Field("Text1", "MẬT")]),
            Secret(Mat),
        ),
        (
            "secrecy form field",
            with_extras(&clean, &[Extra::Field("Độ mật", "Tối mật")]),
            Secret(ToiMat),
        ),
        (
            "secrecy form field with an unknown value",
            with_extras(&clean, &[Extra::Field("DoMat", "Cấp 3")]),
            Uncertain,
        ),
        (
            "English stamp",
            with_extras(&clean, &[Extra::Annotation("Stamp", "CONFIDENTIAL", 15.0)]),
            Uncertain,
        ),
        ("clean", clean.clone(), Clean),
        (
            "clean with an unrelated field",
            with_extras(&clean, &[Extra::Field("GhiChu", "Đã kiểm tra")]),
            Clean,
        ),
    ];
    for (name, bytes, expected) in cases {
        let (x, _) = check_pdf(name, &bytes, expected);
        assert_eq!(
            x.metadata.number_symbol().as_deref(),
            Some("339/BC-UBND"),
            "{name}"
        );
    }
}

#[test]
fn markings_stamp_findings_say_where_they_come_from() {
    let clean = writer_report(&[], "");
    let bytes = with_extras(
        &clean,
        &[
            Extra::Annotation("Stamp", "TỐI MẬT", 25.0),
            Extra::Field("So ban", "MẬT"),
        ],
    );
    let x = extract_pdf(&bytes, types()).expect("extracts");
    let locations: Vec<markings::Location> =
        x.metadata.markings.iter().map(|f| f.location).collect();
    assert!(
        locations.contains(&markings::Location::RotatedStamp)
            || locations.contains(&markings::Location::Annotation),
        "{locations:?}"
    );
    assert!(
        locations.contains(&markings::Location::FormField),
        "{locations:?}"
    );
    assert_eq!(x.metadata.secrecy.value.as_deref(), Some("TỐI MẬT"));
    let json = x.to_json();
    assert_eq!(json["secrecy"], "TỐI MẬT");
    assert!(json["markings"].as_array().is_some_and(|a| a.len() >= 2));
}
