#!/bin/sh
# Generates the Chromium-printed fixtures of tests/it/markings.rs: Decree-30 documents
# whose secrecy or circulation marking is a table cell, a rotated absolutely positioned
# stamp, a bordered letter-spaced box beside the motto, a page-foot line; and a clean
# document that only mentions "bí mật nhà nước" in sentences.
# Usage: tests/tools/marking_pdfs.sh   (needs chromium; writes tests/fixtures/markings/)
set -eu
out="$(cd "$(dirname "$0")/../fixtures/markings" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

style='body { font-family: "Liberation Serif", "DejaVu Serif", serif; font-size: 13pt; margin: 0; }
@page { size: A4; margin: 20mm 15mm 20mm 25mm; }
table.header { width: 100%; border-collapse: collapse; }
table.header td { vertical-align: top; text-align: center; padding: 0 4pt; }
.b { font-weight: bold; }
h1 { text-align: center; font-size: 14pt; margin: 18pt 0 0 0; }
p.abstract { text-align: center; font-weight: bold; margin: 2pt 0 12pt 0; }
p { text-align: justify; margin: 4pt 0; }'

# header LEFT_EXTRA RIGHT_EXTRA: the two-column Decree-30 header.
header() {
  cat <<HTML
<table class="header"><tr>
<td style="width:42%">UBND HUYỆN TRỰC NINH<br><span class="b">ỦY BAN NHÂN DÂN<br>XÃ NAM CHÍNH</span><br>Số: 339/BC-UBND$1</td>
<td style="width:58%"><span class="b">CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM</span><br><span class="b">Độc lập - Tự do - Hạnh phúc</span><br><i>Nam Chính, ngày 13 tháng 9 năm 2021</i>$2</td>
</tr></table>
HTML
}

body() {
  cat <<HTML
<h1>BÁO CÁO</h1>
<p class="abstract">Tình hình hoạt động của trang thông tin điện tử xã Nam Chính năm 2021</p>
<p>Thực hiện Kế hoạch số 116/KH-UBND ngày 24/9/2021 của Ủy ban nhân dân huyện, Ủy ban nhân dân xã báo cáo kết quả như sau:</p>
<p>1. Trang thông tin điện tử của xã đã cập nhật đầy đủ các văn bản chỉ đạo, điều hành và thông tin hoạt động của địa phương trong năm.</p>
<p>2. Việc quản lý tài khoản quản trị được thực hiện theo quy chế nội bộ cơ quan; thực hiện Luật Bảo vệ bí mật nhà nước, không đăng tải tài liệu thuộc danh mục bí mật nhà nước và bảo đảm bảo mật thông tin, mật khẩu được thay đổi định kỳ.</p>
<table style="width:100%; margin-top:18pt"><tr>
<td style="width:50%; vertical-align:top; font-size:11pt"><b><i>Nơi nhận:</i></b><br>- UBND huyện;<br>- Lưu: VT.</td>
<td style="text-align:center; vertical-align:top"><b>TM. ỦY BAN NHÂN DÂN<br>CHỦ TỊCH</b><br><br><br><br><b>Nguyễn Bá Dũng</b></td>
</tr></table>
HTML
}

page() { # NAME HEADER_LEFT HEADER_RIGHT EXTRA_BODY
  {
    printf '<!doctype html><html lang="vi"><head><meta charset="utf-8"><style>%s</style></head><body>\n' "$style"
    header "$2" "$3"
    body
    printf '%s\n</body></html>\n' "$4"
  } > "$work/$1.html"
  chromium --headless --no-sandbox --disable-gpu --no-pdf-header-footer \
    --print-to-pdf="$out/$1.pdf" "file://$work/$1.html" 2>/dev/null
}

# The marking in a table cell of the header's left column, under the number.
page chromium_table_cell '<br><table style="margin:4pt auto; border:1px solid #000"><tr><td class="b">Mật</td></tr></table>' '' ''
# A rotated, absolutely positioned stamp over the body.
page chromium_rotated_stamp '' '' '<div style="position:absolute; top:120mm; left:60mm; transform:rotate(-25deg); border:3px double #c00; color:#c00; padding:6pt 14pt; font-size:22pt; font-weight:bold">TỐI MẬT</div>'
# A bordered, letter-spaced box beside the motto.
page chromium_box_motto '' '<div style="border:1.5px solid #000; display:inline-block; margin-top:6pt; padding:2pt 8pt; font-weight:bold; letter-spacing:6pt">TUYỆT MẬT</div>' ''
# The circulation marking at the page foot.
page chromium_footer '' '' '<div style="position:fixed; bottom:0; left:0; right:0; text-align:center; font-style:italic">Tài liệu lưu hành nội bộ</div>'
# A diacritic-free "MAT" box near the number line: not certain, held for review.
page chromium_folded '' '<div style="border:1px solid #000; display:inline-block; margin-top:6pt; padding:2pt 8pt">MAT</div>' ''
# No marking: "bí mật nhà nước", "quy chế nội bộ", "bảo mật", "mật khẩu" in sentences.
page chromium_clean '' '' ''
ls -l "$out"
