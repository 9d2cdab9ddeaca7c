#!/usr/bin/env python3
"""Generates tests/fixtures/pdf/*.pdf and *.expected.json: Decree-30 documents (the five
seed reports made into full documents, plus other types) rendered by three producers —
LibreOffice (HTML import), headless Chromium (print to PDF) and a cairo rewrite of the
LibreOffice file (pdftocairo). Needs: libreoffice-writer-nogui, chromium, poppler-utils,
fonts-liberation. Run: python3 tests/tools/gen_fixture_pdfs.py"""
import html, json, pathlib, shutil, subprocess, tempfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "fixtures" / "pdf"

DOCS = [
    dict(slug="seed000-quoc-tuan", parent="UBND HUYỆN NAM TRỰC", issuer_lines=["ỦY BAN NHÂN DÂN", "XÃ QUỐC TUẤN"], issuer="Ủy ban nhân dân xã Quốc Tuấn",
         number="215", symbol="BC-UBND", place="Quốc Tuấn", date=(21, 12, 2023), title="BÁO CÁO", type="Báo cáo",
         abstract=["Tình hình hoạt động của trang thông tin điện tử", "xã Quốc Tuấn năm 2023"],
         body=["Ban biên tập trang thông tin điện tử xã được kiện toàn theo quyết định số 116/QĐ-UBND ngày 24/9/2021 của Chủ tịch UBND xã.",
               "Ban biên tập hoạt động theo quy chế được phê duyệt tại Quyết định số 92/QĐ-UBND ngày 7/8/2019 của UBND xã.",
               "Các mục tin đáp ứng quy định tại Điều 10, Nghị định số 43/2011/NĐ-CP ngày 13/6/2011 của Chính phủ."],
         recipients=["UBND huyện", "Lưu VP"], authority=["TM. ỦY BAN NHÂN DÂN"], title_line="CHỦ TỊCH", signer="Nguyễn Bá Dũng",
         refs=["116/QĐ-UBND", "92/QĐ-UBND", "43/2011/NĐ-CP"]),
    dict(slug="seed001-nam-chinh", parent="UBND HUYỆN TRỰC NINH", issuer_lines=["ỦY BAN NHÂN DÂN XÃ NAM CHÍNH"], issuer="Ủy ban nhân dân xã Nam Chính",
         number="339", symbol="BC-UBND", place="Nam Chính", date=(13, 9, 2021), title="BÁO CÁO", type="Báo cáo",
         abstract=["Tình hình hoạt động của trang thông tin điện tử xã Nam Chính năm 2021"],
         body=["Ban biên tập được kiện toàn theo quyết định số 150/QĐ-UBND ngày 19/5/2021 của UBND xã.",
               "Quy chế được phê duyệt tại Quyết định số 157/QĐ-UBND ngày 05/7/2019 của UBND xã."],
         recipients=["UBND huyện", "Lưu VP"], authority=["TM. ỦY BAN NHÂN DÂN XÃ"], title_line="CHỦ TỊCH", signer="Nguyễn Bá Dũng",
         refs=["150/QĐ-UBND", "157/QĐ-UBND"]),
    dict(slug="seed002-duong-quang", parent="UBND THỊ XÃ MỸ HÀO", issuer_lines=["ỦY BAN NHÂN DÂN", "XÃ DƯƠNG QUANG"], issuer="Ủy ban nhân dân xã Dương Quang",
         number=None, symbol="BC-UBND", place="Dương Quang", date=(10, 11, 2023), title="BÁO CÁO", type="Báo cáo",
         abstract=["Kết quả hoạt động Trang Thông tin điện tử xã Dương Quang"],
         body=["Kính gửi: Phòng Văn hóa - Thông Tin thị xã Mỹ Hào.",
               "Thực hiện Công văn số 1631/UBND-VHTT ngày 08/11/2023 của UBND thị xã Mỹ Hào về việc báo cáo kết quả hoạt động.",
               "UBND xã đã ban hành Quyết định số 19/QĐ-UBND ngày 23/6/2023 và Quyết định số 20/QĐ-UBND ngày 23/6/2023."],
         recipients=["Như trên", "Chủ tịch, Phó Chủ tịch UBND xã", "Lưu: VT, VHXX"], authority=["TM. ỦY BAN NHÂN DÂN", "KT. CHỦ TỊCH"], title_line="PHÓ CHỦ TỊCH", signer="Vũ Quang Sáng",
         refs=["1631/UBND-VHTT", "19/QĐ-UBND", "20/QĐ-UBND"]),
    dict(slug="seed003-tra-cu", parent="UBND HUYỆN TRÀ CÚ", issuer_lines=["BAN BIÊN TẬP", "TRANG THÔNG TIN ĐIỆN TỬ"], issuer="Ban Biên tập trang thông tin điện tử",
         number="02", symbol="BC-BBT", place="Trà Cú", date=(22, 11, 2023), title="BÁO CÁO", type="Báo cáo",
         abstract=["Kết quả hoạt động Trang thông tin điện tử huyện Trà Cú năm 2023,", "phương hướng nhiệm vụ năm 2024"],
         body=["Kính gửi: Sở Thông tin và Truyền thông.", "Thực hiện Kế hoạch hoạt động Trang thông tin điện tử huyện năm 2023."],
         recipients=["Sở TTTT", "Lưu: VT"], authority=["TM. BAN BIÊN TẬP"], title_line="TRƯỞNG BAN", signer="Thạch Sô Phol",
         refs=[]),
    dict(slug="seed004-duc-pho", parent="TỈNH QUẢNG NGÃI", issuer_lines=["ỦY BAN NHÂN DÂN", "THỊ XÃ ĐỨC PHỔ"], issuer="Ủy ban nhân dân thị xã Đức Phổ",
         number=None, symbol="BC-UBND", place="Đức Phổ", date=(None, None, 2022), title="BÁO CÁO", type="Báo cáo",
         abstract=["Tình hình hoạt động của Trang thông tin điện tử thị xã Đức Phổ", "(Từ ngày 01/01/2021 đến nay)"],
         body=["Theo nội dung Quyết định số 26/QĐ-STTTT ngày 17 tháng 3 năm 2022 của Giám đốc Sở Thông tin và Truyền thông.",
               "UBND thị xã đã ban hành Quyết định số 13419/QĐ-UBND ngày 25/11/2021 và Quyết định số 1852/QĐ-UBND ngày 02/06/2021."],
         recipients=["TT Thị ủy, TT HĐND thị xã", "CT, các PCT UBND thị xã", "Đoàn thanh tra Sở TTTT tỉnh", "Lưu: VT"], authority=["KT. CHỦ TỊCH"], title_line="PHÓ CHỦ TỊCH", signer="Võ Thanh Hùng",
         refs=["26/QĐ-STTTT", "13419/QĐ-UBND", "1852/QĐ-UBND"]),
    dict(slug="qd-kien-toan", parent=None, issuer_lines=["ỦY BAN NHÂN DÂN", "THỊ TRẤN NGÃI GIAO"], issuer="Ủy ban nhân dân thị trấn Ngãi Giao",
         number="142", symbol="QĐ-UBND", place="Ngãi Giao", date=(29, 3, 2024), title="QUYẾT ĐỊNH", type="Quyết định",
         abstract=["V/v phân công nhiệm vụ đối với Công chức Văn phòng - Thống kê"],
         body=["CHỦ TỊCH UBND THỊ TRẤN NGÃI GIAO", "Căn cứ Nghị định số 33/2023/NĐ-CP ngày 10/6/2023 của Chính phủ;",
               "Điều 1. Phân công nhiệm vụ. Quyết định này có hiệu lực kể từ ngày ký."],
         recipients=["Như điều 3", "Lưu: VT"], authority=[], title_line="CHỦ TỊCH", signer="Nguyễn Xuân Quang",
         refs=["33/2023/NĐ-CP"], effective=(29, 3, 2024)),
    dict(slug="kh-mat", parent=None, issuer_lines=["UỶ BAN NHÂN DÂN", "THỊ XÃ BỈM SƠN"], issuer="Uỷ ban nhân dân thị xã Bỉm Sơn",
         number="3070", symbol="KH-UBND", place="Bỉm Sơn", date=(9, 9, 2024), title="KẾ HOẠCH", type="Kế hoạch",
         abstract=["Khắc phục những tồn tại trong việc bảo vệ bí mật nhà nước năm 2024"], marking="MẬT",
         body=["Thực hiện Công văn số 1781-CV/TU ngày 27/8/2024 của Tỉnh uỷ Thanh Hoá."],
         recipients=["Thường trực Thị uỷ", "Lưu: VT"], authority=["KT. CHỦ TỊCH"], title_line="PHÓ CHỦ TỊCH", signer="Trịnh Tuấn Thành",
         refs=["1781-CV/TU"]),
    dict(slug="cv-khan", parent="UBND TỈNH QUẢNG NGÃI", issuer_lines=["SỞ THÔNG TIN VÀ TRUYỀN THÔNG"], issuer="Sở Thông tin và Truyền thông",
         number="815", symbol="STTTT-TTBCXB", place="Quảng Ngãi", date=(5, 3, 2024), title=None, type="Công văn",
         abstract=["V/v cập nhật văn bản chỉ đạo điều hành", "lên Trang thông tin điện tử"], marking="KHẨN",
         body=["Kính gửi: UBND các huyện, thị xã, thành phố.", "Căn cứ Nghị định số 42/2022/NĐ-CP ngày 24 tháng 6 năm 2022 của Chính phủ."],
         recipients=["Như trên", "Giám đốc Sở", "Lưu: VT, TTBCXB"], authority=["KT. GIÁM ĐỐC"], title_line="PHÓ GIÁM ĐỐC", signer="Phạm Thị Lan",
         refs=["42/2022/NĐ-CP"]),
    dict(slug="nq-hdnd", parent=None, issuer_lines=["HỘI ĐỒNG NHÂN DÂN", "TỈNH CAO BẰNG"], issuer="Hội đồng nhân dân tỉnh Cao Bằng",
         number="33", symbol="2022/NQ-HĐND", place="Cao Bằng", date=(15, 7, 2022), title="NGHỊ QUYẾT", type="Nghị quyết",
         abstract=["Quy định mức thu lệ phí cấp giấy phép lao động trên địa bàn tỉnh Cao Bằng"],
         body=["HỘI ĐỒNG NHÂN DÂN TỈNH CAO BẰNG", "Căn cứ Nghị định số 120/2016/NĐ-CP ngày 23 tháng 8 năm 2016 của Chính phủ;",
               "Nghị quyết này có hiệu lực thi hành kể từ ngày 25 tháng 7 năm 2022."],
         recipients=["Chính phủ", "Lưu: VT"], authority=[], title_line="CHỦ TỊCH", signer="Triệu Đình Lê",
         refs=["120/2016/NĐ-CP"], effective=(25, 7, 2022)),
    dict(slug="tb-hop", parent="UBND THÀNH PHỐ ĐÀ NẴNG", issuer_lines=["SỞ GIÁO DỤC VÀ ĐÀO TẠO"], issuer="Sở Giáo dục và Đào tạo",
         number="05", symbol="TB-SGDĐT", place="Đà Nẵng", date=(5, 3, 2024), title="THÔNG BÁO", type="Thông báo",
         abstract=["Kết luận của Giám đốc Sở tại cuộc họp giao ban tháng 3 năm 2024"],
         body=["Căn cứ Quyết định số 1535/QĐ-UBND ngày 12/4/2019 của UBND thành phố."],
         recipients=["Các phòng thuộc Sở", "Lưu: VT, VP"], authority=["TL. GIÁM ĐỐC"], title_line="CHÁNH VĂN PHÒNG", signer="Lê Thị Hoa",
         refs=["1535/QĐ-UBND"]),
]

CSS = "body{font-family:'Liberation Serif',serif;font-size:13pt} td{vertical-align:top;text-align:center} .b{font-weight:bold} p{margin:4pt 0;text-align:justify}"

def date_text(place, d):
    day, month, year = d
    return f"{place}, ngày {day if day else '&nbsp;&nbsp;&nbsp;'} tháng {month if month else '&nbsp;&nbsp;&nbsp;'} năm {year}"

def render(doc):
    e = html.escape
    left = ([f"<div>{e(doc['parent'])}</div>"] if doc["parent"] else []) + [f"<div class=b>{e(l)}</div>" for l in doc["issuer_lines"]]
    left.append("<div>-------</div>")
    left.append(f"<div>Số: {doc['number'] or '&nbsp;&nbsp;&nbsp;&nbsp;'}/{e(doc['symbol'])}</div>")
    if doc["title"] is None:
        left += [f"<div>{e(l)}</div>" for l in doc["abstract"]]
    if doc.get("marking"):
        left.append(f"<div class=b>{e(doc['marking'])}</div>")
    right = ["<div class=b>CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM</div>", "<div class=b>Độc lập - Tự do - Hạnh phúc</div>", "<div>---------------</div>",
             f"<div><i>{date_text(e(doc['place']), doc['date'])}</i></div>"]
    parts = [f"<html><head><meta charset=utf-8><style>{CSS}</style></head><body>"]
    parts.append(f"<table width=100%><tr><td width=40%>{''.join(left)}</td><td width=60%>{''.join(right)}</td></tr></table><br>")
    if doc["title"]:
        parts.append(f"<p class=b style='text-align:center'>{e(doc['title'])}</p>")
        parts += [f"<p class=b style='text-align:center'>{e(l)}</p>" for l in doc["abstract"]]
        parts.append("<br>")
    parts += [f"<p>{e(l)}</p>" for l in doc["body"]]
    parts.append("<br>")
    rec = "".join(f"<div>- {e(r)}{'.' if i == len(doc['recipients']) - 1 else ';'}</div>" for i, r in enumerate(doc["recipients"]))
    sig = "".join(f"<div class=b>{e(a)}</div>" for a in doc["authority"]) + f"<div class=b>{e(doc['title_line'])}</div><br><br><br><div class=b>{e(doc['signer'])}</div>"
    parts.append(f"<table width=100%><tr><td width=50% style='text-align:left'><div class=b><i>Nơi nhận:</i></div>{rec}</td><td width=50%>{sig}</td></tr></table>")
    parts.append("</body></html>")
    return "".join(parts)

def expected(doc, pages):
    day, month, year = doc["date"]
    iso = f"{year:04}-{month:02}-{day:02}" if day else None
    number_symbol = f"{doc['number']}/{doc['symbol']}" if doc["number"] else None
    abstract = " ".join(doc["abstract"])
    if abstract.startswith("V/v "):
        abstract = abstract[4:]
        abstract = abstract[0].upper() + abstract[1:]
    authority = doc["authority"][-1].split(".")[0] + "." if doc["authority"] else None
    title = doc["title_line"].lower()
    return {
        "doc_type": doc["type"], "number": doc["number"], "symbol": doc["symbol"], "number_symbol": number_symbol,
        "issuer": doc["issuer"], "place": doc["place"], "issued_date": iso, "abstract": abstract,
        "signer_name": doc["signer"], "signer_title": title[0].upper() + title[1:], "signing_authority": authority,
        "recipients": doc["recipients"], "references": doc["refs"],
        "classified": doc.get("marking") == "MẬT", "urgent": doc.get("marking") == "KHẨN",
        "text_source": "text_layer", "pages": pages,
    }

def pages_of(pdf):
    out = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    return int(next(l.split()[1] for l in out.splitlines() if l.startswith("Pages:")))

def main():
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        for doc in DOCS:
            src = tmp / f"{doc['slug']}.html"
            src.write_text(render(doc), encoding="utf-8")
            subprocess.run(["soffice", "--headless", "--convert-to", "pdf:writer_web_pdf_Export", "--outdir", str(tmp), str(src)],
                           check=True, capture_output=True)
            lo = OUT / f"{doc['slug']}.libreoffice.pdf"
            shutil.copy(tmp / f"{doc['slug']}.pdf", lo)
            cr = OUT / f"{doc['slug']}.chromium.pdf"
            subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer",
                            "--disable-background-networking", "--disable-component-update", f"--user-data-dir={tmp}/chr",
                            f"--print-to-pdf={cr}", src.as_uri()], check=True, capture_output=True)
            ca = OUT / f"{doc['slug']}.cairo.pdf"
            subprocess.run(["pdftocairo", "-pdf", str(lo), str(ca)], check=True)
            for pdf in (lo, cr, ca):
                pdf.with_suffix(".expected.json").write_text(
                    json.dumps(expected(doc, pages_of(pdf)), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"{len(list(OUT.glob('*.pdf')))} PDFs in {OUT}")

main()
