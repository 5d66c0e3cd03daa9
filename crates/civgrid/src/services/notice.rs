//! The printable notices: 一次性告知书 (every missing material at once) and 不予受理通知书.
//! Server-rendered HTML in Chinese with inline styles and no outside assets (the government
//! network has no CDN); printing it gives an A4 page.

use super::applications::{mask, NoticeView};
use super::catalogue::ServiceItem;

fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

fn medium_zh(m: &str) -> &'static str {
    match m {
        "paper" => "纸质",
        "either" => "纸质或电子",
        _ => "电子",
    }
}

/// Renders a notice as a complete HTML document.
pub fn render(n: &NoticeView, item: &ServiceItem, applicant_name: &str, department_name: &str) -> String {
    let date = n.issued_at.get(..10).unwrap_or(&n.issued_at);
    let (title, lead) = if n.kind == "refusal" {
        ("不予受理通知书", "经审查，您的申请不符合受理条件，决定不予受理。理由如下：".to_owned())
    } else {
        (
            "一次性告知书",
            format!(
                "您申请办理的事项尚缺下列材料。本告知书<strong>一次性告知全部</strong>需补正的材料（共 {} 项），\
                 补齐后可到任一窗口或通过网上办事大厅办理，无需重复提交已提交或政府已掌握的材料。",
                n.missing.len()
            ),
        )
    };
    let mut body = String::new();
    if n.kind == "refusal" {
        body.push_str(&format!("<p class=\"reason\">{}</p>", esc(n.reason.as_deref().unwrap_or(""))));
        body.push_str("<p>如对本决定不服，可依法申请行政复议或者提起行政诉讼。</p>");
    } else {
        body.push_str(
            "<table><thead><tr><th>序号</th><th>材料名称</th><th>份数</th><th>形式</th><th>格式要求</th><th>说明</th></tr></thead><tbody>",
        );
        for (i, m) in n.missing.iter().enumerate() {
            let formats = if m.medium == "paper" {
                "—".to_owned()
            } else {
                format!("{}，不超过 {} KB", m.formats.join("/").to_uppercase(), m.max_kb)
            };
            body.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                i + 1,
                esc(&m.name),
                m.count,
                medium_zh(&m.medium),
                esc(&formats),
                esc(&m.note)
            ));
        }
        body.push_str("</tbody></table>");
    }
    let window = n.window_code.as_deref().map_or("网上办事大厅".to_owned(), |w| format!("{} 号窗口", esc(w)));
    format!(
        "<!DOCTYPE html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>{title} {number}</title>\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<style>body{{font-family:\"SimSun\",\"Songti SC\",serif;max-width:180mm;margin:10mm auto;color:#000;line-height:1.7}}\
h1{{text-align:center;font-size:22pt;letter-spacing:4pt;margin-bottom:2mm}}\
.no{{text-align:right;font-size:10.5pt}}table{{width:100%;border-collapse:collapse;margin:4mm 0}}\
th,td{{border:1px solid #000;padding:2mm;font-size:10.5pt;vertical-align:top}}th{{background:#eee}}\
.reason{{border:1px solid #000;padding:3mm}}.meta td{{border:none;padding:0.5mm 2mm}}\
.sign{{text-align:right;margin-top:12mm}}@media print{{body{{margin:0 auto}}}}</style></head>\
<body><h1>{title}</h1><p class=\"no\">编号：{number}</p>\
<table class=\"meta\"><tr><td>申请人：</td><td>{name}（证件号码 {id}）</td></tr>\
<tr><td>申请事项：</td><td>{item}（事项编码 {code}，第 {version} 版）</td></tr>\
<tr><td>实施依据：</td><td>{basis}</td></tr><tr><td>受理地点：</td><td>{window}</td></tr></table>\
<p>{name}：</p><p>{lead}</p>{body}\
<p>承诺办结时限：{promised} 个工作日（法定 {legal} 个工作日），最多跑动 {visits} 次。</p>\
<p class=\"sign\">{dept}<br>{date}</p></body></html>\n",
        number = esc(&n.number),
        name = esc(applicant_name),
        id = esc(&mask_or(&n.applicant_id_masked)),
        item = esc(&item.spec.name),
        code = esc(&item.code),
        version = item.version,
        basis = esc(&item.spec.legal_basis),
        promised = item.spec.promised_limit_days,
        legal = item.spec.legal_limit_days,
        visits = item.spec.max_visits,
        dept = esc(department_name),
    )
}

fn mask_or(s: &str) -> String {
    if s.contains('*') {
        s.to_owned()
    } else {
        mask(s)
    }
}

#[cfg(test)]
mod tests {
    use super::esc;

    #[test]
    fn html_is_escaped() {
        assert_eq!(esc("<a href=\"x\">&'"), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;");
    }
}
