//! A deterministic generator of realistic registry records, for the search relevance set
//! (`vanban eval-search`) and the search benchmark (`vanban bench search`): domain
//! vocabulary, Decree-30 header fields, bodies of 2–10 KB citing earlier documents.
//! The same seed always gives the same corpus, so queries can name their answers.

use chrono::NaiveDate;

use super::IndexDocument;

/// xorshift64*: small, fast, reproducible; statistical quality is beside the point here.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

pub const UNITS: &[(&str, &str)] = &[
    ("000.46.24.H44", "xã Quốc Tuấn"),
    ("000.47.24.H44", "xã Nam Chính"),
    ("000.48.24.H44", "xã Dương Quang"),
    ("000.49.24.H44", "thị trấn Ngãi Giao"),
    ("000.50.24.H44", "phường Phùng Chí Kiên"),
    ("000.51.24.H44", "xã Tân Phong"),
    ("000.52.24.H44", "xã Hòa Bình"),
    ("000.53.24.H44", "xã Thủy Xuân"),
    ("000.54.24.H44", "phường Quang Trung"),
    ("000.55.24.H44", "xã Đông Hưng"),
];

const TYPES: &[(&str, &str)] = &[
    ("Quyết định", "QĐ"),
    ("Báo cáo", "BC"),
    ("Kế hoạch", "KH"),
    ("Thông báo", "TB"),
    ("Chỉ thị", "CT"),
    ("Công văn", ""),
    ("Nghị quyết", "NQ"),
    ("Tờ trình", "TTr"),
];

const TOPICS: &[&str] = &[
    "kiện toàn Ban biên tập Trang thông tin điện tử",
    "phòng cháy, chữa cháy rừng mùa khô",
    "chuyển đổi số và phát triển chính quyền số",
    "cải cách thủ tục hành chính",
    "tiếp công dân và giải quyết khiếu nại, tố cáo",
    "phòng, chống dịch bệnh sốt xuất huyết",
    "xây dựng nông thôn mới nâng cao",
    "bảo vệ môi trường và thu gom rác thải sinh hoạt",
    "tuyển quân và thực hiện nghĩa vụ quân sự",
    "phổ biến, giáo dục pháp luật",
    "thu ngân sách nhà nước và quản lý chi tiêu công",
    "an toàn giao thông dịp Tết Nguyên đán",
    "cấp giấy chứng nhận quyền sử dụng đất",
    "hỗ trợ hộ nghèo, hộ cận nghèo",
    "phòng, chống thiên tai và tìm kiếm cứu nạn",
    "giao ban công tác tháng",
    "tổ chức Đại hội thể dục thể thao",
    "quản lý trật tự xây dựng đô thị",
    "tiêm chủng mở rộng cho trẻ em",
    "kiểm tra, rà soát văn bản quy phạm pháp luật",
    "đăng ký hộ tịch và chứng thực",
    "phát triển du lịch cộng đồng",
    "bảo đảm an ninh trật tự, an toàn xã hội",
    "sắp xếp đơn vị hành chính cấp xã",
];

const ABSTRACT_FRAMES: &[&str] = &[
    "Về việc {t}",
    "Triển khai công tác {t} năm {y}",
    "Kết quả thực hiện công tác {t} năm {y}",
    "Tăng cường công tác {t}",
    "Ban hành Quy chế {t}",
    "Tổ chức thực hiện {t} trên địa bàn {u}",
];

const FAMILY: &[&str] = &[
    "Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ",
];
const MIDDLE: &[&str] = &[
    "Văn", "Thị", "Hữu", "Đức", "Minh", "Thanh", "Quang", "Ngọc", "Xuân",
];
const GIVEN: &[&str] = &[
    "An", "Bình", "Cường", "Dũng", "Hòa", "Hùng", "Hương", "Lan", "Long", "Mai", "Nam", "Phong",
    "Quân", "Sơn", "Tâm", "Thảo", "Tuấn", "Uyên", "Việt", "Yến", "Thủy", "Khoa",
];

const SENTENCES: &[&str] = &[
    "Căn cứ Luật Tổ chức chính quyền địa phương ngày 19 tháng 6 năm 2015;",
    "Căn cứ Luật sửa đổi, bổ sung một số điều của Luật Tổ chức Chính phủ và Luật Tổ chức chính quyền địa phương ngày 22 tháng 11 năm 2019;",
    "Theo đề nghị của Công chức Văn phòng - Thống kê.",
    "Các bộ phận chuyên môn, các thôn, tổ dân phố căn cứ nội dung kế hoạch tổ chức thực hiện nghiêm túc.",
    "Giao Văn phòng HĐND và UBND theo dõi, đôn đốc, tổng hợp kết quả, báo cáo Chủ tịch UBND.",
    "Trong kỳ, địa phương đã tổ chức tuyên truyền bằng nhiều hình thức phong phú, thiết thực.",
    "Kinh phí thực hiện được bố trí từ nguồn ngân sách địa phương và các nguồn hợp pháp khác.",
    "Quyết định này có hiệu lực kể từ ngày ký.",
    "Trưởng các thôn chịu trách nhiệm thông báo rộng rãi đến nhân dân được biết.",
    "Tồn tại, hạn chế: một số nhiệm vụ triển khai còn chậm, chất lượng chưa cao.",
    "Phương hướng nhiệm vụ thời gian tới: tiếp tục nâng cao hiệu quả công tác, khắc phục tồn tại.",
    "Trong quá trình thực hiện, nếu có khó khăn, vướng mắc, đề nghị phản ánh về Ủy ban nhân dân để xem xét, giải quyết.",
    "Công an xã phối hợp với các lực lượng bảo đảm an ninh, trật tự an toàn xã hội.",
    "Trạm Y tế chủ trì, phối hợp tổ chức tuyên truyền, hướng dẫn người dân chủ động phòng bệnh.",
    "Đồng chí Phó Chủ tịch phụ trách khối chỉ đạo kiểm tra việc thực hiện.",
];

/// The `k`-th synthetic record of the corpus with `seed`.
pub struct CorpusGenerator {
    rng: Rng,
    next_id: u64,
    /// Number-symbols issued so far (citations point back at them).
    issued: Vec<String>,
    /// Next number per (unit, year).
    counters: std::collections::HashMap<(usize, i32), u32>,
}

impl CorpusGenerator {
    pub fn new(seed: u64, first_id: u64) -> CorpusGenerator {
        CorpusGenerator {
            rng: Rng::new(seed),
            next_id: first_id,
            issued: Vec::new(),
            counters: Default::default(),
        }
    }

    fn name(&mut self) -> String {
        format!(
            "{} {} {}",
            self.rng.pick(FAMILY),
            self.rng.pick(MIDDLE),
            self.rng.pick(GIVEN)
        )
    }

    pub fn next_document(&mut self) -> IndexDocument {
        let r = &mut self.rng;
        let unit_index = r.below(UNITS.len());
        let (unit_code, place) = UNITS[unit_index];
        let (doc_type, code) = *r.pick(TYPES);
        let year = 2015 + r.below(12) as i32;
        let month = 1 + r.below(12) as u32;
        let day = 1 + r.below(28) as u32;
        let issued = NaiveDate::from_ymd_opt(year, month, day).expect("valid date");
        // Numbering restarts every year; real registers are in the tens to thousands.
        let start = 1 + r.below(300) as u32;
        let step = 1 + r.below(9) as u32;
        let counter = self.counters.entry((unit_index, year)).or_insert(start);
        *counter += step;
        let number = counter.to_string();
        let symbol = if code.is_empty() {
            "UBND-VP".to_string()
        } else {
            format!("{code}-UBND")
        };
        let number_symbol = format!("{number}/{symbol}");
        let topic = *r.pick(TOPICS);
        let abstract_text = r
            .pick(ABSTRACT_FRAMES)
            .replace("{t}", topic)
            .replace("{y}", &year.to_string())
            .replace("{u}", place);
        let mut body = String::new();
        let target = 2_000 + r.below(8_000);
        let issuer = format!("Ủy ban nhân dân {place}");
        body.push_str(&format!(
            "{} {}\nSố: {number_symbol}\n{}, ngày {day} tháng {month} năm {year}\n{}\n{abstract_text}\n",
            "ỦY BAN NHÂN DÂN",
            place.to_uppercase(),
            place.split(' ').skip(1).collect::<Vec<_>>().join(" "),
            doc_type.to_uppercase()
        ));
        let mut citations = Vec::new();
        while body.len() < target {
            let sentence = *self.rng.pick(SENTENCES);
            body.push_str(sentence);
            body.push(' ');
            if self.rng.below(6) == 0 {
                body.push_str(&format!("Về {topic} trên địa bàn {place}. "));
            }
            if !self.issued.is_empty() && self.rng.below(8) == 0 {
                let cited = self.issued[self.rng.below(self.issued.len())].clone();
                body.push_str(&format!(
                    "Thực hiện văn bản số {cited} của Ủy ban nhân dân. "
                ));
                if !citations.contains(&cited) {
                    citations.push(cited);
                }
            }
        }
        let signer = self.name();
        body.push_str(&format!("\nTM. ỦY BAN NHÂN DÂN\nCHỦ TỊCH\n{signer}\n"));
        self.issued.push(number_symbol.clone());
        let id = self.next_id;
        self.next_id += 1;
        IndexDocument {
            id,
            unit_code: unit_code.to_string(),
            sha256: format!("{id:064x}"),
            doc_type: Some(doc_type.to_string()),
            type_code: (!code.is_empty()).then(|| code.to_string()),
            number: Some(number),
            number_symbol: Some(number_symbol),
            issuer: Some(issuer),
            issuer_parent: None,
            issued_date: Some(issued),
            issued_year: Some(year),
            effective_date: None,
            abstract_text: Some(abstract_text),
            signer_name: Some(signer),
            signer_title: Some("Chủ tịch".into()),
            created: issued,
            body,
            citations,
        }
    }
}

impl Iterator for CorpusGenerator {
    type Item = IndexDocument;
    fn next(&mut self) -> Option<IndexDocument> {
        Some(self.next_document())
    }
}
