#!/usr/bin/env python3
"""Third producer for tests/it/markings.rs: ReportLab (pip install reportlab).

Writes tests/fixtures/markings/reportlab_*.pdf: a Decree-30 report whose marking is a
rotated stamp drawn in the page content, one whose marking is a table cell beside the
motto ("Độ mật" | "Mật"), one with an AcroForm text field valued "MAT" (ReportLab's form fields take Latin-1
only, as some form tools do: a diacritic-free marking, held for review), and a
clean one that only mentions "bí mật nhà nước" in a sentence.
Usage: python3 tests/tools/marking_pdfs_reportlab.py
"""
import os

from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "markings")
FONT_DIR = "/usr/share/fonts/truetype/liberation2"
pdfmetrics.registerFont(TTFont("Serif", os.path.join(FONT_DIR, "LiberationSerif-Regular.ttf")))
pdfmetrics.registerFont(TTFont("SerifBold", os.path.join(FONT_DIR, "LiberationSerif-Bold.ttf")))
W, H = A4


def centered(c, text, x, y, bold=False, size=13):
    c.setFont("SerifBold" if bold else "Serif", size)
    c.drawCentredString(x, y, text)


def report(name, extra):
    c = canvas.Canvas(os.path.join(OUT, name), pagesize=A4, pageCompression=1)
    c.setTitle("Báo cáo")
    centered(c, "UBND HUYỆN TRỰC NINH", 150, H - 60)
    centered(c, "ỦY BAN NHÂN DÂN XÃ NAM CHÍNH", 150, H - 76, bold=True)
    centered(c, "Số: 339/BC-UBND", 150, H - 100)
    centered(c, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", 400, H - 60, bold=True)
    centered(c, "Độc lập - Tự do - Hạnh phúc", 400, H - 76, bold=True)
    centered(c, "Nam Chính, ngày 13 tháng 9 năm 2021", 400, H - 100)
    centered(c, "BÁO CÁO", W / 2, H - 150, bold=True, size=14)
    centered(c, "Tình hình hoạt động của trang thông tin điện tử xã Nam Chính năm 2021", W / 2, H - 168, bold=True)
    c.setFont("Serif", 13)
    body = [
        "Thực hiện Kế hoạch số 116/KH-UBND ngày 24/9/2021 của Ủy ban nhân dân huyện,",
        "Ủy ban nhân dân xã báo cáo kết quả như sau:",
        "1. Trang thông tin điện tử của xã đã cập nhật đầy đủ các văn bản chỉ đạo, điều hành.",
        "2. Thực hiện Luật Bảo vệ bí mật nhà nước, không đăng tải tài liệu mật; quy chế nội bộ",
        "cơ quan về bảo mật thông tin và mật khẩu quản trị được tuân thủ.",
    ]
    y = H - 200
    for line in body:
        c.drawString(70, y, line)
        y -= 18
    c.setFont("SerifBold", 11)
    c.drawString(70, y - 30, "Nơi nhận:")
    c.setFont("Serif", 11)
    c.drawString(70, y - 45, "- UBND huyện;")
    c.drawString(70, y - 60, "- Lưu: VT.")
    centered(c, "TM. ỦY BAN NHÂN DÂN", 400, y - 30, bold=True)
    centered(c, "CHỦ TỊCH", 400, y - 45, bold=True)
    centered(c, "Nguyễn Bá Dũng", 400, y - 110, bold=True)
    extra(c)
    c.showPage()
    c.save()


def rotated_stamp(c):
    c.saveState()
    c.translate(300, 330)
    c.rotate(30)
    c.setStrokeColorRGB(0.8, 0, 0)
    c.setFillColorRGB(0.8, 0, 0)
    c.rect(-10, -10, 180, 40)
    c.setFont("SerifBold", 22)
    c.drawString(0, 0, "TUYỆT MẬT")
    c.restoreState()


def table_cell(c):
    # A two-cell bordered table under the date: "Độ mật" | "Mật".
    x, y = 330, H - 130
    c.rect(x, y, 70, 18)
    c.rect(x + 70, y, 70, 18)
    c.setFont("Serif", 11)
    c.drawString(x + 6, y + 5, "Độ mật")
    c.drawString(x + 76, y + 5, "Mật")


def form_field(c):
    c.acroForm.textfield(
        name="DoMat", value="MAT", x=380, y=40, width=160, height=20,
        fontName="Helvetica", fontSize=10, borderWidth=0,
    )


report("reportlab_rotated_stamp.pdf", rotated_stamp)
report("reportlab_table_cell.pdf", table_cell)
report("reportlab_form_field_folded.pdf", form_field)
report("reportlab_clean.pdf", lambda c: None)
for name in sorted(os.listdir(OUT)):
    if name.startswith("reportlab_"):
        print(name, os.path.getsize(os.path.join(OUT, name)))
