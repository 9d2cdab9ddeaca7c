#!/usr/bin/env python3
"""Generates tests/data/header_cases.json: real-shaped Decree-30 header/footer snippets with
the fields a careful reader expects. Expected values come from the component tables below,
never from running the parser. Run: python3 tests/tools/gen_header_cases.py"""
import itertools, json, pathlib, random

random.seed(30)

# (printed issuer lines, expected issuer, expected parent)
ISSUERS = [
    (["UBND HUYỆN TRỰC NINH", "ỦY BAN NHÂN DÂN XÃ NAM CHÍNH"], "Ủy ban nhân dân xã Nam Chính", "UBND huyện Trực Ninh"),
    (["ỦY BAN NHÂN DÂN", "THỊ TRẤN NGÃI GIAO"], "Ủy ban nhân dân thị trấn Ngãi Giao", None),
    (["UỶ BAN NHÂN DÂN", "THỊ XÃ BỈM SƠN"], "Uỷ ban nhân dân thị xã Bỉm Sơn", None),
    (["HỘI ĐỒNG NHÂN DÂN", "TỈNH CAO BẰNG"], "Hội đồng nhân dân tỉnh Cao Bằng", None),
    (["BỘ Y TẾ"], "Bộ Y tế", None),
    (["UBND THÀNH PHỐ ĐÀ NẴNG", "SỞ GIÁO DỤC VÀ ĐÀO TẠO"], "Sở Giáo dục và Đào tạo", "UBND thành phố Đà Nẵng"),
    (["ỦY BAN NHÂN DÂN", "THÀNH PHỐ HÀ NỘI"], "Ủy ban nhân dân thành phố Hà Nội", None),
    (["UBND TỈNH QUẢNG NGÃI", "SỞ THÔNG TIN VÀ TRUYỀN THÔNG"], "Sở Thông tin và Truyền thông", "UBND tỉnh Quảng Ngãi"),
    (["ỦY BAN NHÂN DÂN", "XÃ DƯƠNG QUANG"], "Ủy ban nhân dân xã Dương Quang", None),
    (["UBND THỊ XÃ MỸ HÀO", "ỦY BAN NHÂN DÂN PHƯỜNG PHÙNG CHÍ KIÊN"], "Ủy ban nhân dân phường Phùng Chí Kiên", "UBND thị xã Mỹ Hào"),
    (["BỘ TÀI CHÍNH"], "Bộ Tài chính", None),
    (["UBND TỈNH THANH HÓA", "SỞ TƯ PHÁP"], "Sở Tư pháp", "UBND tỉnh Thanh Hóa"),
]

# (printed "Số" line, number, symbol) — {t} is the type code slot.
NUMBERS = [
    ("Số: 339/{t}-UBND", "339", "{t}-UBND"),
    ("Số: 05/{t}-UBND", "05", "{t}-UBND"),
    ("Số:   /{t}-UBND", None, "{t}-UBND"),
    ("Số: 116 /{t}- UBND", "116", "{t}-UBND"),
    ("Số : 12/{t}-UBND", "12", "{t}-UBND"),
    ("Số: 3070. /{t}-UBND", "3070", "{t}-UBND"),
    ("Số: 25/2016/{t}-UBND", "25", "2016/{t}-UBND"),
    ("Số: 1852/{t}-UBND", "1852", "{t}-UBND"),
    ("SỐ: 88/{t}-UBND", "88", "{t}-UBND"),
    ("Số: 13419/{t}–UBND", "13419", "{t}-UBND"),
]

TYPES = [
    ("QUYẾT ĐỊNH", "QĐ", "Quyết định", "Về việc kiện toàn Ban biên tập Trang thông tin điện tử"),
    ("BÁO CÁO", "BC", "Báo cáo", "Tình hình hoạt động của trang thông tin điện tử năm 2023"),
    ("KẾ HOẠCH", "KH", "Kế hoạch", "Tuyên truyền phổ biến giáo dục pháp luật năm 2024"),
    ("THÔNG BÁO", "TB", "Thông báo", "Kết luận của Chủ tịch tại cuộc họp giao ban tháng 6"),
    ("TỜ TRÌNH", "TTr", "Tờ trình", "Đề nghị phê duyệt dự toán kinh phí năm 2025"),
    ("CHƯƠNG TRÌNH", "CTr", "Chương trình", "Công tác năm 2024 của Ủy ban nhân dân"),
    ("NGHỊ QUYẾT", "NQ", "Nghị quyết", "Về nhiệm vụ phát triển kinh tế - xã hội năm 2025"),
    ("CHỈ THỊ", "CT", "Chỉ thị", "Về tăng cường công tác phòng cháy, chữa cháy"),
    ("HƯỚNG DẪN", "HD", "Hướng dẫn", "Thực hiện chuyển đổi số trong cơ quan nhà nước"),
    ("QUY ĐỊNH", "QyĐ", "Quy định", "Về quản lý tài liệu điện tử"),
]

# (printed date line, place, ISO date or None, year)
DATES = [
    ("Nam Chính, ngày 13 tháng 9 năm 2021", "Nam Chính", "2021-09-13", 2021),
    ("Hà Nội, ngày 05 tháng 3 năm 2024", "Hà Nội", "2024-03-05", 2024),
    ("Đức Phổ, ngày   tháng   năm 2022", "Đức Phổ", None, 2022),
    ("Ngãi Giao, ngày 5/3/2024", "Ngãi Giao", "2024-03-05", 2024),
    ("Trà Cú, ngày 22 tháng 11 năm 2023", "Trà Cú", "2023-11-22", 2023),
    ("Cao Bằng, ngày 15 tháng 7 năm 2022", "Cao Bằng", "2022-07-15", 2022),
    ("TP. Hồ Chí Minh, ngày 09 tháng 02 năm 2021", "TP. Hồ Chí Minh", "2021-02-09", 2021),
    ("Bỉm Sơn, ngày 09 tháng 9 năm 2024", "Bỉm Sơn", "2024-09-09", 2024),
]

# (printed signer block lines, authority, title, name)
SIGNERS = [
    (["TM. ỦY BAN NHÂN DÂN", "CHỦ TỊCH", "", "Nguyễn Bá Dũng"], "TM.", "Chủ tịch", "Nguyễn Bá Dũng"),
    (["TM. ỦY BAN NHÂN DÂN", "KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH", "", "Vũ Quang Sáng"], "KT.", "Phó chủ tịch", "Vũ Quang Sáng"),
    (["KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH", "(Đã ký)", "Võ Thanh Hùng"], "KT.", "Phó chủ tịch", "Võ Thanh Hùng"),
    (["CHỦ TỊCH", "", "Nguyễn Xuân Quang"], None, "Chủ tịch", "Nguyễn Xuân Quang"),
    (["TL. GIÁM ĐỐC", "CHÁNH VĂN PHÒNG", "", "TRẦN THỊ THU HÀ"], "TL.", "Chánh văn phòng", "Trần Thị Thu Hà"),
    (["KT. BỘ TRƯỞNG", "THỨ TRƯỞNG", "", "Nguyễn Thị Liên Hương"], "KT.", "Thứ trưởng", "Nguyễn Thị Liên Hương"),
    (["TUQ. CHỦ TỊCH", "CHÁNH VĂN PHÒNG", "", "Lê Văn Tám"], "TUQ.", "Chánh văn phòng", "Lê Văn Tám"),
    (["Q. GIÁM ĐỐC", "", "Phạm Minh Đức"], "Q.", "Giám đốc", "Phạm Minh Đức"),
]

RECIPIENTS = [
    (["- UBND huyện;", "- Lưu VP."], ["UBND huyện", "Lưu VP"]),
    (["- Như trên;", "- Chủ tịch, Phó Chủ tịch UBND xã;", "- Lưu: VT, VHXX."], ["Như trên", "Chủ tịch, Phó Chủ tịch UBND xã", "Lưu: VT, VHXX"]),
    (["- TT Thị ủy, TT HĐND thị xã;", "- CT, các PCT UBND thị xã;", "- Đoàn thanh tra Sở TTTT", "tỉnh;", "- Lưu: VT."], ["TT Thị ủy, TT HĐND thị xã", "CT, các PCT UBND thị xã", "Đoàn thanh tra Sở TTTT tỉnh", "Lưu: VT"]),
]

MARKINGS = [(None, None, None), ("MẬT", "MẬT", None), ("KHẨN", None, "KHẨN"), ("TỐI MẬT", "TỐI MẬT", None), ("HỎA TỐC", None, "HỎA TỐC")]

MOTTO = ["CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc"]

cases = []
combos = list(itertools.product(range(len(ISSUERS)), range(len(NUMBERS)), range(len(TYPES)), range(len(DATES))))
random.shuffle(combos)
for k, (ii, ni, ti, di) in enumerate(combos[:150]):
    issuer_lines, issuer, parent = ISSUERS[ii]
    num_line, number, symbol = NUMBERS[ni]
    title, code, type_name, abstract = TYPES[ti]
    date_line, place, iso, year = DATES[di]
    signer_lines, authority, stitle, sname = SIGNERS[k % len(SIGNERS)]
    rec_lines, recs = RECIPIENTS[k % len(RECIPIENTS)]
    mark, secrecy, urgency = MARKINGS[k % len(MARKINGS)] if k % 3 == 0 else (None, None, None)
    symbol = symbol.format(t=code)
    num_line = num_line.format(t=code)
    if k % 7 == 3:
        num_line = num_line.replace("Đ", "\u00d0")  # Icelandic Eth from Công báo producers
    abstract_lines = [abstract]
    if k % 5 == 2:  # abstract wrapped over two lines
        words = abstract.split(" ")
        abstract_lines = [" ".join(words[: len(words) // 2]), " ".join(words[len(words) // 2 :])]
    lines = list(issuer_lines) + [num_line, ""] + MOTTO + [date_line, ""]
    if mark:
        lines = [mark, ""] + lines
    lines += [title] + abstract_lines + ["", "Căn cứ Luật Tổ chức chính quyền địa phương ngày 19 tháng 6 năm 2015;",
              "Căn cứ Quyết định số 116/QĐ-UBND ngày 24/9/2021 của UBND xã;", "", "Điều 1. Nội dung.", ""]
    lines += ["Nơi nhận:"] + rec_lines + [""] + [l for l in signer_lines]
    cases.append({
        "name": f"generated-{k:03}",
        "input": "\n".join(lines),
        "expect": {
            "issuer": issuer, "issuer_parent": parent, "number": number, "symbol": symbol,
            "number_symbol": f"{number}/{symbol}" if number else None,
            "doc_type": type_name, "abstract": abstract.replace("V/v ", ""), "place": place,
            "issued_date": iso, "issued_year": year, "signing_authority": authority,
            "signer_title": stitle, "signer_name": sname, "recipients": recs,
            "secrecy": secrecy, "urgency": urgency, "references": ["116/QĐ-UBND"],
        },
    })

# Hand-written shapes that the combinations do not cover.
cases += [
    {"name": "cong-van-vv-two-lines", "input": "UBND HUYỆN TRỰC NINH\nỦY BAN NHÂN DÂN XÃ NAM CHÍNH\nSố: 123/UBND-VP\nV/v báo cáo kết quả hoạt động\nTrang thông tin điện tử năm 2023\n\nCỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nĐộc lập - Tự do - Hạnh phúc\nNam Chính, ngày 10 tháng 11 năm 2023\n\nKính gửi: Phòng Văn hóa - Thông tin huyện.\n",
     "expect": {"doc_type": "Công văn", "number_symbol": "123/UBND-VP", "abstract": "Báo cáo kết quả hoạt động Trang thông tin điện tử năm 2023", "issuer": "Ủy ban nhân dân xã Nam Chính"}},
    {"name": "ndcp-glued", "input": "CHÍNH PHỦ\nSố: 42/2022/NĐCP\n\nCỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nĐộc lập - Tự do - Hạnh phúc\nHà Nội, ngày 24 tháng 6 năm 2022\n\nNGHỊ ĐỊNH\nQuy định về việc cung cấp thông tin và dịch vụ công trực tuyến\n\nCăn cứ Luật Tổ chức Chính phủ;\n",
     "expect": {"doc_type": "Nghị định", "number_symbol": "42/2022/NĐ-CP", "issued_date": "2022-06-24", "issuer": "Chính phủ"}},
    {"name": "qd-without-diacritics", "input": "ỦY BAN NHÂN DÂN\nXÃ QUỐC TUẤN\nSố: 116/QD-UBND\n\nCỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nĐộc lập - Tự do - Hạnh phúc\nQuốc Tuấn, ngày 24 tháng 9 năm 2021\n\nQUYẾT ĐỊNH\nVề việc kiện toàn Ban biên tập\n\nCăn cứ Luật;\n",
     "expect": {"number_symbol": "116/QĐ-UBND", "doc_type": "Quyết định", "issuer": "Ủy ban nhân dân xã Quốc Tuấn"}},
    {"name": "luu-hanh-noi-bo", "input": "LƯU HÀNH NỘI BỘ\n\nỦY BAN NHÂN DÂN\nXÃ NAM CHÍNH\nSố: 12/TB-UBND\n\nCỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nĐộc lập - Tự do - Hạnh phúc\nNam Chính, ngày 2 tháng 1 năm 2024\n\nTHÔNG BÁO\nLịch công tác tuần\n",
     "expect": {"internal_circulation": True, "number_symbol": "12/TB-UBND", "issued_date": "2024-01-02"}},
    {"name": "impossible-date", "input": "ỦY BAN NHÂN DÂN\nXÃ NAM CHÍNH\nSố: 12/TB-UBND\n\nNam Chính, ngày 30 tháng 2 năm 2014\n\nTHÔNG BÁO\nLịch công tác tuần\n",
     "expect": {"issued_date": None, "issued_year": 2014}},
    {"name": "body-citation-not-date", "input": "BỘ Y TẾ\nSố: 2093/QĐ-BYT\n\nCỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nĐộc lập - Tự do - Hạnh phúc\nHà Nội, ngày 24 tháng 6 năm 2025\n\nQUYẾT ĐỊNH\nVề việc công bố thủ tục hành chính quy định tại Nghị định số 148/2025/NĐ-CP ngày 12/6/2025 của Chính phủ\n\nBỘ TRƯỞNG BỘ Y TẾ\nCăn cứ Nghị định số 42/2025/NĐ-\nCP ngày 27/02/2025 của Chính phủ;\n",
     "expect": {"issued_date": "2025-06-24", "abstract": "Về việc công bố thủ tục hành chính quy định tại Nghị định số 148/2025/NĐ-CP ngày 12/6/2025 của Chính phủ", "references": ["148/2025/NĐ-CP", "42/2025/NĐ-CP"]}},
    {"name": "uppercase-abstract", "input": "HỘI ĐỒNG NHÂN DÂN\nTỈNH CAO BẰNG\nSố: 33/2022/NQ-HĐND\n\nCỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nĐộc lập - Tự do - Hạnh phúc\nCao Bằng, ngày 15 tháng 7 năm 2022\n\nNGHỊ QUYẾT\n\nQUY ĐỊNH MỨC THU LỆ PHÍ CẤP GIẤY PHÉP LAO ĐỘNG\nTRÊN ĐỊA BÀN TỈNH CAO BẰNG\n\nHỘI ĐỒNG NHÂN DÂN TỈNH CAO BẰNG\nCăn cứ Luật;\n",
     "expect": {"abstract": "Quy định mức thu lệ phí cấp giấy phép lao động trên địa bàn tỉnh Cao Bằng", "number_symbol": "33/2022/NQ-HĐND", "issuer": "Hội đồng nhân dân tỉnh Cao Bằng"}},
    {"name": "party-citation", "input": "UỶ BAN NHÂN DÂN\nTHỊ XÃ BỈM SƠN\nSố: 3070. /KH-UBND\n\nBỉm Sơn, ngày 09 tháng 9 năm 2024\n\nKẾ HOẠCH\nKhắc phục tồn tại\n\nThực hiện Công văn số 1781-CV/TU ngày 27/8/2024 của Tỉnh uỷ; Kết luận số 17/KL-BCA-A03 của Bộ Công an.\n",
     "expect": {"number_symbol": "3070/KH-UBND", "references": ["1781-CV/TU", "17/KL-BCA-A03"]}},
    # Seen on real documents (2026-11-23): a date line split by wide blanks, a wrapped body
    # sentence starting with "ngày …" under a title, a labelled line under the abstract, and
    # a recipient list whose tail the page's reading order put below the signer.
    {"name": "blank-date-split-line", "input": "UBND TỈNH QUẢNG NGÃI\nỦY BAN NHÂN DÂN\nTHỊ XÃ ĐỨC PHỔ\nSố:      /BC-UBND\n\nCỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nĐộc lập - Tự do - Hạnh phúc\nĐức Phổ, ngày      tháng\nnăm 2022\n\nBÁO CÁO\nTình hình hoạt động\n",
     "expect": {"place": "Đức Phổ", "issued_date": None, "issued_year": 2022, "number_symbol": None, "doc_type": "Báo cáo"}},
    {"name": "vbhn-body-date-not-header", "input": "VĂN BẢN HỢP NHẤT - VĂN PHÒNG QUỐC HỘI\n\nCỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nĐộc lập - Tự do - Hạnh phúc\n\nLUẬT\nBAN HÀNH VĂN BẢN QUY PHẠM PHÁP LUẬT\n\nLuật số 63/2020/QH14 ngày 18 tháng 6 năm 2020 của Quốc hội, có hiệu lực kể từ\nngày 01 tháng 01 năm 2021.\n",
     "expect": {"issuer": "Văn phòng Quốc hội", "issued_date": None, "place": None, "effective_date": None, "doc_type": "Luật"}},
    {"name": "precedent-title", "input": "Án lệ số 27/2019/AL về thụ lý, giải quyết vụ án hành chính liên quan\nđến nhà đất mà Nhà nước đã quản lý\nĐược Hội đồng Thẩm phán Tòa án nhân dân tối cao thông qua\nngày 22 tháng 8 năm 2019 và được công bố theo Quyết định số 293/QĐ-CA\nngày 09 tháng 9 năm 2019 của Chánh án Tòa án nhân dân tối cao.\n",
     "expect": {"doc_type": "Án lệ", "number_symbol": "27/2019/AL", "issuer": "Hội đồng Thẩm phán Tòa án nhân dân tối cao", "issued_date": "2019-08-22", "abstract": "Về thụ lý, giải quyết vụ án hành chính liên quan đến nhà đất mà Nhà nước đã quản lý", "references": ["293/QĐ-CA"]}},
    {"name": "law-passing-sentence", "input": "Điều 509. Hiệu lực thi hành\nBộ luật này có hiệu lực thi hành từ ngày 01 tháng 7 năm 2016.\n\nBộ luật này đã được Quốc hội nước Cộng hòa xã hội chủ nghĩa Việt Nam khóa XIII,\nkỳ họp thứ 10 thông qua ngày 27 tháng 11 năm 2015./.\n\nCHỦ TỊCH QUỐC HỘI\n\nNguyễn Sinh Hùng\n",
     "expect": {"issuer": "Quốc hội", "doc_type": "Bộ luật", "issued_date": "2015-11-27", "effective_date": "2016-07-01", "signer_name": "Nguyễn Sinh Hùng", "signer_title": "Chủ tịch Quốc hội"}},
    {"name": "constitution-motto-only-header", "input": "CÔNG BÁO/Số 1003 + 1004/Ngày 29-12-2013\n\nQUỐC HỘI\n\nCỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nĐộc lập - Tự do - Hạnh phúc\n\nHIẾN PHÁP\nNước Cộng hòa xã hội chủ nghĩa Việt Nam\n\nLỜI NÓI ĐẦU\nTrải qua mấy nghìn năm lịch sử, Nhân dân Việt Nam lao động cần cù.\n",
     "expect": {"issuer": "Quốc hội", "doc_type": "Hiến pháp", "number_symbol": None, "issued_date": None}},
    {"name": "abstract-then-label-line", "input": "ỦY BAN NHÂN DÂN\nTHÀNH PHỐ HÀ NỘI\nSố: 2858/QĐ-UBND\n\nCỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nĐộc lập - Tự do - Hạnh phúc\nHà Nội, ngày 10 tháng 6 năm 2025\n\nQUYẾT ĐỊNH\nVề việc phê duyệt đồ án Điều chỉnh cục bộ Quy hoạch chi tiết khu vực Bắc Cổ\nNhuế - Chèm, tỷ lệ 1/500\nĐịa điểm: các phường Cổ Nhuế 2 và Xuân Đỉnh,\nquận Bắc Từ Liêm, thành phố Hà Nội.\n\nỦY BAN NHÂN DÂN THÀNH PHỐ HÀ NỘI\nCăn cứ Luật;\n",
     "expect": {"abstract": "Về việc phê duyệt đồ án Điều chỉnh cục bộ Quy hoạch chi tiết khu vực Bắc Cổ Nhuế - Chèm, tỷ lệ 1/500"}},
    {"name": "recipients-resume-below-signer", "input": "HỘI ĐỒNG NHÂN DÂN\nTỈNH CAO BẰNG\nSố: 33/2022/NQ-HĐND\n\nCao Bằng, ngày 15 tháng 7 năm 2022\n\nNGHỊ QUYẾT\nQuy định mức thu lệ phí\n\nĐiều 1. Nội dung.\n\nNơi nhận:\n- Chính phủ;\n- Huyện ủy, Thành ủy, HĐND, UBND các huyện,\nthành phố;\n\nCHỦ TỊCH\n\nTriệu Đình Lê\n- Trung tâm thông tin - Văn phòng UBND tỉnh;\n- Lưu: VT.\n",
     "expect": {"recipients": ["Chính phủ", "Huyện ủy, Thành ủy, HĐND, UBND các huyện, thành phố", "Trung tâm thông tin - Văn phòng UBND tỉnh", "Lưu: VT"], "signer_name": "Triệu Đình Lê", "signer_title": "Chủ tịch"}},
]

out = pathlib.Path(__file__).resolve().parent.parent / "data" / "header_cases.json"
out.write_text(json.dumps(cases, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
print(f"{len(cases)} cases → {out}")
