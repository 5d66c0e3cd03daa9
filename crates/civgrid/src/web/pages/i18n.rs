//! The pages' words, Chinese first and English, in one table; and what each API error code
//! means to a person. Templates call `l.t("key")`; the browser script gets the same table as
//! JSON (`Tr::json`), so a message is written once for both.

use serde_json::{Map, Value};

/// The language of a page: Chinese unless the `lang=en` cookie says otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Zh,
    En,
}

impl Lang {
    /// From the value of the `lang` cookie.
    pub fn from_cookie(v: Option<&str>) -> Lang {
        match v {
            Some("en") => Lang::En,
            _ => Lang::Zh,
        }
    }

    /// The `lang` attribute of the page.
    pub fn html(self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Lang::Zh => "zh",
            Lang::En => "en",
        }
    }

    /// The language the toggle switches to.
    pub fn other(self) -> Lang {
        match self {
            Lang::Zh => Lang::En,
            Lang::En => Lang::Zh,
        }
    }
}

/// A translator for one language (what templates hold as `l`).
#[derive(Debug, Clone, Copy)]
pub struct Tr(pub Lang);

impl Tr {
    /// The text of `key`; the key itself if it is missing (a unit test keeps that from happening).
    pub fn t(&self, key: &str) -> &'static str {
        let pick = |(_, zh, en): &(&'static str, &'static str, &'static str)| match self.0 {
            Lang::Zh => *zh,
            Lang::En => *en,
        };
        TEXT.iter().chain(ERRORS).find(|(k, _, _)| *k == key).map(pick).unwrap_or("?")
    }

    /// The page's `lang` attribute.
    pub fn html(&self) -> &'static str {
        self.0.html()
    }

    /// The `lang` attribute of the other language (for the toggle link).
    pub fn other_html(&self) -> &'static str {
        self.0.other().html()
    }

    /// The code of the language the toggle switches to.
    pub fn other_code(&self) -> &'static str {
        self.0.other().code()
    }

    /// The label of a case state (`received`, …).
    pub fn state(&self, state: &str) -> &'static str {
        self.t(&format!("state.{state}"))
    }

    /// The label of an action (`accept`, …).
    pub fn action(&self, action: &str) -> &'static str {
        self.t(&format!("action.{action}"))
    }

    /// The whole table for the browser script: `{"text": {key: …}, "errors": {code: …}}`, made
    /// safe to embed in a `<script>` element.
    pub fn json(&self) -> String {
        script_safe(serde_json::json!({"lang": self.0.code(), "text": self.pick(TEXT), "errors": self.errors()}))
    }

    fn pick(&self, rows: &[(&str, &str, &str)]) -> Map<String, Value> {
        rows.iter()
            .map(|(k, zh, en)| ((*k).to_owned(), Value::from(if self.0 == Lang::Zh { *zh } else { *en })))
            .collect()
    }

    /// The error messages by bare code (the table's keys are `error.CODE`; scripts look them up
    /// by the code an answer carries).
    fn errors(&self) -> Map<String, Value> {
        self.pick(ERRORS).into_iter().map(|(k, v)| (k.trim_start_matches("error.").to_owned(), v)).collect()
    }
}

/// The error messages in both languages, `{"zh": {code: message}, "en": {…}}`, safe inside a
/// `<script>` element: for the certificate check page, which switches language in place.
pub fn errors_json_both() -> String {
    script_safe(serde_json::json!({"zh": Tr(Lang::Zh).errors(), "en": Tr(Lang::En).errors()}))
}

/// JSON that cannot end the `<script>` element it is written into.
fn script_safe(v: Value) -> String {
    v.to_string().replace('<', "\\u003c").replace('>', "\\u003e").replace('&', "\\u0026")
}

/// (key, 中文, English).
pub const TEXT: &[(&str, &str, &str)] = &[
    ("app.name", "civgrid 社会治理平台", "civgrid governance platform"),
    ("app.skip", "跳到主要内容", "Skip to main content"),
    ("lang.switch", "English", "中文"),
    ("lang.switch_label", "Switch to English", "切换到中文"),
    ("nav.signed_in_as", "当前用户", "Signed in as"),
    ("nav.logout", "退出登录", "Sign out"),
    ("nav.login", "工作人员登录", "Staff sign-in"),
    ("nav.portal", "群众服务", "Citizen portal"),
    ("nav.map", "网格一张图", "Grid map"),
    ("nav.verify", "证书核验", "Verify a certificate"),
    ("nav.workbenches", "我的工作台", "My workbenches"),
    ("wb.grid", "网格员工作台", "Grid worker"),
    ("wb.desk", "受理·立案·派遣", "Intake, filing and dispatch"),
    ("wb.handler", "部门处置", "Department handling"),
    ("wb.command", "指挥中心一张图", "Command centre map"),
    ("wb.trends", "指标趋势", "Indicator trends"),
    ("pager.label", "翻页", "pages"),
    ("rect.title", "好差评整改", "Rectification of bad ratings"),
    (
        "rect.intro",
        "差评由本部门整改：按期答复整改情况并记录回访；评价有误的可以申诉，由管理员裁定。",
        "Bad ratings are rectified by this department: reply with what was fixed and the callback made, in time; a mistaken rating may be appealed, and an administrator decides.",
    ),
    ("rect.task", "整改任务", "Task"),
    ("rect.rating", "评价", "Rating"),
    ("rect.comment", "评价内容", "What the applicant said"),
    ("rect.deadline", "整改期限", "Deadline"),
    ("rect.overdue", "已超期", "overdue"),
    ("rect.reply", "整改情况", "What was fixed"),
    ("rect.callback", "回访记录", "Callback record"),
    ("rect.send_reply", "提交整改答复", "Send the reply"),
    ("rect.appeal", "申诉", "Appeal"),
    (
        "rect.appeal_intro",
        "仅当评价明显有误或不实时申诉；申诉成立的评价不再计入满意度。",
        "Appeal only a rating that is mistaken or false; an upheld appeal takes it out of the satisfaction figures.",
    ),
    ("rect.appeal_reason", "申诉理由", "Reason for the appeal"),
    ("rect.appeal_decision", "申诉裁定", "Decision on the appeal"),
    ("rect.replied", "已提交整改答复", "Reply sent"),
    ("rect.appeals", "差评申诉待裁定", "Appeals against ratings to decide"),
    (
        "rect.appeals_intro",
        "申诉成立则撤销该评价（不再计入满意度）；不成立则整改任务重新打开。",
        "Upheld: the rating is voided (no longer counted); dismissed: the task is reopened.",
    ),
    ("rect.upheld", "申诉成立（撤销评价）", "Upheld (void the rating)"),
    ("rect.dismissed", "申诉不成立（继续整改）", "Dismissed (rectify)"),
    ("rect.decide", "裁定", "Decide"),
    ("rect.decided", "已裁定申诉", "Appeal decided"),
    ("rect.choose", "请选择申诉是否成立。", "Choose whether the appeal is upheld."),
    ("rect.appealed", "已提交申诉", "Appeal sent"),
    ("rect.state.open", "待整改", "To rectify"),
    ("rect.state.replied", "已答复，待申请人评价", "Replied; the applicant to judge"),
    ("rect.state.appealed", "申诉中", "Under appeal"),
    ("rect.state.closed", "已办结", "Closed"),
    ("rect.state.voided", "评价已撤销", "Rating voided"),
    ("kiosk.title", "24 小时自助服务", "24-hour self-service"),
    ("kiosk.home", "返回首页", "Back to the start"),
    (
        "kiosk.intro",
        "无需登录。请点击您要办理的业务；两分钟无操作将自动返回首页。",
        "No sign-in needed. Touch what you want to do; after two minutes untouched the screen returns here.",
    ),
    ("kiosk.report", "我要反映问题", "Report a problem"),
    ("kiosk.report_hint", "路面、垃圾、井盖、噪音等城市问题", "Roads, rubbish, manholes, noise and other city problems"),
    ("kiosk.track", "查询问题进度", "Follow a problem"),
    ("kiosk.track_hint", "凭受理编号查询处理进度", "By the case number you were given"),
    ("kiosk.apply", "我要办事", "Apply for a service"),
    ("kiosk.apply_hint", "政务服务事项网上申请", "Any government service item, online"),
    ("kiosk.application", "查询办件", "Follow an application"),
    ("kiosk.application_hint", "凭办件编号和身份证号查询、评价", "By application number and ID number; rate it"),
    ("kiosk.verify", "证照核验", "Verify a certificate"),
    ("kiosk.verify_hint", "核验电子证照和证明的真伪", "Check that an e-licence or certificate is genuine"),
    (
        "kiosk.privacy",
        "本机不保存您填写的内容；离开前请点击“返回首页”。",
        "This terminal keeps nothing you type; touch “Back to the start” before you leave.",
    ),
    ("pager.prev", "← 上一页", "← Previous page"),
    ("pager.next", "下一页 →", "Next page →"),
    ("pager.first", "← 回到第一页", "← Back to the first page"),
    ("trends.title", "考核指标趋势", "Indicator trends"),
    ("trends.grain", "周期", "Period"),
    ("trends.by_month", "按月（近 12 个月）", "By month (last 12 months)"),
    ("trends.by_week", "按周（近 13 周）", "By week (last 13 weeks)"),
    ("trends.show", "查看", "Show"),
    ("trends.monthly", "逐月结案率、按期结案率、处置率", "Closure, on-time closure and handling rates by month"),
    ("trends.weekly", "逐周结案率、按期结案率、处置率", "Closure, on-time closure and handling rates by week"),
    (
        "trends.intro",
        "按立案时间统计，无立案的周期不计比率（折线断开）。统计期间：",
        "Counted by the day cases were filed; a period with nothing filed has no rate (the line breaks). Span:",
    ),
    ("trends.table", "图表数据", "The chart's numbers"),
    ("trends.period", "周期", "Period"),
    ("trends.closed", "结案数", "Closed"),
    ("trends.areas", "各街道指标对比", "Subdistricts side by side"),
    ("trends.areas_intro", "同一统计期间内各街道辖区内立案的指标：", "The cases filed in each subdistrict, over the same span:"),
    ("trends.area", "街道", "Subdistrict"),
    ("trends.departments", "各部门指标对比（主办部门）", "Departments side by side (lead department)"),
    ("trends.departments_intro", "同一统计期间内各部门主办案卷的指标：", "Each department's cases as lead, over the same span:"),
    ("wb.cases", "案卷一览", "Cases"),
    ("command.layers", "图层", "Layers"),
    ("command.bound.district", "区界", "District boundary"),
    ("command.bound.subdistrict", "街道（镇）界", "Subdistrict boundaries"),
    ("command.bound.community", "社区（村）界", "Community boundaries"),
    ("command.heat", "按类别热力（未办结案卷数）", "Heat by class (open cases)"),
    ("command.heat_off", "不显示热力", "No heat"),
    ("command.heat_total", "该类未办结案卷 / 涉及网格", "Open cases of the class / grids"),
    ("wb.admin", "系统管理", "Administration"),
    ("admin.one_time_password", "一次性密码（用户下次登录时须修改）", "One-time password (changed at the next sign-in)"),
    ("admin.title", "系统管理", "Administration"),
    ("admin.sections", "本页各部分", "Sections of this page"),
    ("admin.import", "导入网格（GeoJSON）", "Import grids (GeoJSON)"),
    (
        "admin.import_intro",
        "上传网格面的 GeoJSON 要素集合并声明其坐标系；全部检查通过才导入，否则逐个要素列出问题，什么也不写入。",
        "Upload a GeoJSON FeatureCollection of grid polygons and say which datum it is in; it is imported only when every feature passes, otherwise each problem is listed by feature and nothing is written.",
    ),
    ("admin.import_file", "GeoJSON 文件", "GeoJSON file"),
    ("admin.datum", "坐标系", "Datum"),
    ("admin.replace", "允许重绘已有网格", "Allow redrawing existing grids"),
    ("admin.import_submit", "检查并导入", "Check and import"),
    ("admin.import_choose", "请选择文件。", "Choose a file."),
    ("admin.imported", "已导入", "Imported"),
    ("admin.imported_detail", "新建网格 / 重绘网格 / 新建区域", "grids created / redrawn / areas created"),
    ("admin.problems", "逐个要素的问题清单", "The problems, feature by feature"),
    ("admin.feature", "要素", "Feature"),
    ("admin.file_level", "文件", "File"),
    ("admin.problem_code", "问题代码", "Code"),
    ("admin.problem", "说明", "Problem"),
    ("admin.calendar", "工作日历", "Working-day calendar"),
    (
        "admin.calendar_intro",
        "法定节假日和调休上班日；案卷和办件的时限按工作日计算。",
        "Public holidays and make-up working days; case and application deadlines count working days.",
    ),
    ("admin.day", "日期", "Date"),
    ("admin.day_kind", "类型", "Kind"),
    ("admin.day.holiday", "节假日（不上班）", "Holiday (no work)"),
    ("admin.day.workday", "调休上班日", "Make-up working day"),
    ("admin.day_add", "加入日历", "Add to the calendar"),
    ("admin.day_remove", "移除", "Remove"),
    ("admin.day_saved", "日历已更新", "Calendar updated"),
    ("admin.departments", "部门", "Departments"),
    ("admin.department_put", "新增或更名部门", "Add or rename a department"),
    ("admin.department_intro", "填写已有部门的代码即为更名。", "Give an existing department's code to rename it."),
    ("admin.department", "所属部门", "Department"),
    ("admin.code", "代码", "Code"),
    ("admin.name", "名称", "Name"),
    ("admin.area", "区域", "Area"),
    ("admin.save", "保存", "Save"),
    ("admin.saved", "已保存", "Saved"),
    ("admin.staff", "工作人员", "Staff"),
    ("admin.staff_new", "新建工作人员账号", "New staff account"),
    ("admin.staff_create", "创建账号", "Create the account"),
    ("admin.roles", "角色 @ 区域", "Roles @ area"),
    ("admin.role", "角色", "Role"),
    ("admin.staff_edit", "修改账号", "Edit account"),
    ("admin.roles_keep", "保留的角色（取消勾选即撤销）", "Roles kept (untick to withdraw)"),
    ("admin.role_add", "添加角色", "Add a role"),
    ("admin.grids", "负责的网格", "Grids worked in"),
    (
        "admin.grids_hint",
        "网格编码，每行一个，可在编码后写“专职”或“兼职”（不写即按下面的类型）；留空即不负责任何网格。只有网格员可以负责网格。",
        "Grid codes, one a line, each optionally followed by “Full-time” or “Part-time” (otherwise the kind below); empty for none. Only grid workers work in grids.",
    ),
    ("admin.grid_kind", "网格员类型", "Grid worker kind"),
    ("admin.grid_kind.full_time", "专职", "Full-time"),
    ("admin.grid_kind.part_time", "兼职", "Part-time"),
    ("admin.active", "启用", "Active"),
    ("admin.activate", "启用账号", "Activate"),
    ("admin.deactivate", "停用账号", "Deactivate"),
    ("admin.inactive", "停用", "Inactive"),
    ("admin.classes", "事部件分类目录", "Case catalogue"),
    (
        "admin.classes_intro",
        "每一类的时限和责任部门；新版本通过 PUT /api/v1/admin/case-classes/{code} 发布。",
        "Each class's time limit and responsible department; new versions are published with PUT /api/v1/admin/case-classes/{code}.",
    ),
    ("admin.kind", "类型", "Kind"),
    ("admin.version", "版本", "Version"),
    ("admin.edit", "修改", "Edit"),
    ("admin.class_new", "新增类别", "Add a class"),
    ("admin.class_edit", "修改类别", "Edit class"),
    (
        "admin.class_intro",
        "保存即生成该类别的新版本；已有案卷仍按原版本的时限和标准办理。",
        "Saving adds a new version of the class; existing cases keep the version they were filed under.",
    ),
    ("admin.major_code", "大类代码", "Major class code"),
    ("admin.major_name", "大类名称", "Major class"),
    ("admin.minor_name", "小类名称", "Minor class"),
    ("admin.filing_criteria", "立案标准", "Filing criteria"),
    ("admin.closing_criteria", "结案标准", "Closing criteria"),
    ("admin.limit_unit", "时限单位", "Time limit unit"),
    ("admin.responsible_department", "责任部门", "Responsible department"),
    ("admin.duplicate_radius", "重复判定半径（米）", "Duplicate radius (m)"),
    ("admin.duplicate_window", "重复判定时间窗（小时）", "Duplicate window (hours)"),
    ("admin.self_handle", "允许网格员自行处置", "Grid workers may handle it themselves"),
    ("admin.save_version", "保存为新版本", "Save as a new version"),
    ("admin.items", "政务服务事项目录", "Service item catalogue"),
    (
        "admin.items_intro",
        "事项按实施编码管理；保存即生成新版本，已受理的办件仍按原版本办理。",
        "Items are kept by their implementation code; saving adds a new version, and applications already accepted keep theirs.",
    ),
    ("admin.item_limits", "法定/承诺时限", "Legal / promised limit"),
    ("admin.max_visits", "最多跑动次数", "Most visits"),
    ("admin.item_new", "新增事项", "Add an item"),
    ("admin.item_edit", "修改事项", "Edit item"),
    (
        "admin.item_intro",
        "上面各栏写入下方完整定义后一并提交；材料、审批环节和审查要点在完整定义中修改。",
        "The fields above are written into the full definition below and sent together; change materials, steps and criteria in the definition.",
    ),
    ("admin.legal_limit", "法定时限（工作日）", "Legal time limit (working days)"),
    ("admin.promised_limit", "承诺时限（工作日）", "Promised time limit (working days)"),
    ("admin.item_spec", "完整定义（JSON）", "Full definition (JSON)"),
    (
        "admin.item_spec_hint",
        "字段见 docs/SERVICES.md：事项类型、主项、子项、申请材料、审批环节、收费、办理结果等。",
        "Fields as in docs/SERVICES.md: item type, main and sub item, materials, steps, fees, result.",
    ),
    ("admin.item_spec_invalid", "完整定义不是有效的 JSON，请检查括号和引号。", "The full definition is not valid JSON; check the brackets and quotes."),
    ("admin.kind.event", "事件", "Incident"),
    ("admin.kind.component", "部件", "Component"),
    ("admin.limit", "时限", "Time limit"),
    ("admin.unit.working_hours", "工作小时", "working hours"),
    ("admin.unit.working_days", "工作日", "working days"),
    ("wb.window", "综合窗口受理", "Service window"),
    ("wb.approve", "审批", "Approvals"),
    ("nav.services", "办事服务", "Apply for a service"),
    ("window.title", "综合窗口 · 无差别受理", "Service window · any item at any window"),
    ("window.accept", "受理办件", "Accept an application"),
    ("window.recent", "最近的办件", "Latest applications"),
    ("approve.title", "审批工作台", "Approval workbench"),
    ("approve.queue", "待我部门审批", "Waiting for my department"),
    ("approve.checklist", "审查要点", "Decision checklist"),
    ("approve.parallel", "并联审批部门", "Decided in parallel by"),
    ("approve.met", "符合", "Met"),
    ("approve.not_met", "不符合", "Not met"),
    ("approve.criterion_note", "审查意见（不符合时必填）", "Finding (required when not met)"),
    ("approve.note", "审批意见", "Decision note"),
    ("approve.approve", "准予通过", "Approve"),
    ("approve.reject", "不予通过", "Reject"),
    ("approve.decided", "已审批", "Decided"),
    ("approve.choose_all", "请对每一项审查要点选择“符合”或“不符合”。", "Mark every criterion met or not met."),
    ("approve.upcoming", "待前序环节办结（尚未轮到本部门）", "Waiting for an earlier step (not yet our turn)"),
    ("approve.others", "本部门已审批，其他部门审批中", "Decided by us; other departments still deciding"),
    ("approve.suspend", "进入特殊环节（暂停计时）", "Begin a special step (clock stops)"),
    (
        "approve.suspend_intro",
        "现场核查、公示、专家评审等特殊环节；不计入时限的环节结束后办结时限顺延。",
        "Site inspection, public notice, expert review…; when the step does not count towards the limit, the deadlines move on by its length.",
    ),
    ("approve.special_step", "特殊环节", "Special step"),
    ("approve.suspended", "特殊环节中（计时暂停）", "In a special step (clock stopped)"),
    ("approve.resume", "恢复计时", "Resume the clock"),
    ("approve.resumed", "已恢复计时", "Clock resumed"),
    ("approve.suspended_done", "已进入特殊环节", "Special step begun"),
    ("approve.concluded", "最近办结", "Recently concluded"),
    ("svc.item", "办理事项", "Service item"),
    ("svc.choose_item", "请选择事项", "Choose an item"),
    ("svc.choose", "选定", "Choose"),
    ("svc.promised", "承诺时限", "Promised within"),
    ("svc.working_days", "个工作日", "working days"),
    ("svc.max_visits", "最多跑动次数", "Most visits"),
    ("svc.conditions", "申请条件", "Conditions"),
    ("svc.id_person", "申请人公民身份号码", "Applicant's resident ID number"),
    ("svc.id_entity", "统一社会信用代码", "Unified social credit code"),
    ("svc.id_any", "身份证号码或统一社会信用代码", "Resident ID number or credit code"),
    ("svc.name_person", "申请人姓名", "Applicant's name"),
    ("svc.name_entity", "单位名称", "Organisation's name"),
    ("svc.contact", "联系方式（手机或电子邮箱，选填）", "Contact (phone or e-mail, optional)"),
    ("svc.window", "窗口编号", "Window"),
    ("svc.materials", "申请材料", "Materials"),
    (
        "svc.materials_intro",
        "政府已有的材料（电子证照、此前办件提交过的材料）由系统自动调取，无需再交；缺少的材料一次性告知。",
        "Materials the government already holds (e-licences, copies from an earlier application) are attached automatically and not asked for again; anything missing is listed in one notice.",
    ),
    ("svc.required", "必交", "Required"),
    ("svc.optional", "选交", "Optional"),
    ("svc.hint.licence", "可由电子证照库调取", "From the e-licence library"),
    ("svc.hint.earlier", "可复用此前提交", "Reused from an earlier application"),
    ("svc.hint.once", "本次填报", "Filled in for this application"),
    ("svc.file", "上传电子件", "Upload the file"),
    ("svc.paper_seen", "已收取纸质件", "Paper copy handed in"),
    ("svc.accept", "受理", "Accept"),
    ("svc.apply", "提交申请", "Apply"),
    ("svc.refuse", "不予受理", "Refuse to accept"),
    (
        "svc.refuse_intro",
        "不属于受理范围或申请人不符合条件时，出具不予受理通知书并说明理由。",
        "When the application is outside the item's scope or the applicant does not qualify, a refusal notice states the reason.",
    ),
    ("svc.refuse_reason", "不予受理理由", "Reason for refusal"),
    ("svc.refused", "已出具不予受理通知书", "Refusal notice issued"),
    ("svc.accepted", "已受理，办件编号", "Accepted; application number"),
    ("svc.submitted_online", "申请已受理，办件编号", "Your application is accepted; its number is"),
    ("svc.keep_number", "请记下办件编号和查询码，凭二者查询进度。", "Keep the number and the access key: follow the application with both."),
    ("svc.access_key", "查询码", "Access key"),
    ("svc.key_once", "查询码只显示这一次，请交给申请人妥善保存：凭办件编号和查询码查询进度、评价和下载电子证照；仅凭证件号码无法查询。", "The access key is shown only this once; give it to the applicant to keep: with the number it follows the application, rates it and downloads the e-licence. An ID number alone opens nothing."),
    ("svc.reused_now", "自动复用的材料", "Materials reused automatically"),
    ("svc.missing", "材料不齐，未受理。一次性告知须补交以下材料", "Materials are missing, so nothing was accepted. Everything still needed, at once"),
    ("svc.print_notice", "打印一次性告知书", "Print the missing-materials notice"),
    ("svc.print_refusal", "打印不予受理通知书", "Print the refusal notice"),
    ("svc.library_has", "电子证照库已有，将自动调取", "In the e-licence library; will be attached"),
    ("svc.library_none", "电子证照库中暂无可用证照。", "No usable e-licence in the library."),
    ("svc.library_found", "电子证照库中的证照", "E-licences in the library"),
    ("svc.follow", "办件查询", "Follow an application"),
    ("svc.number", "办件编号", "Application number"),
    ("svc.not_found", "没有找到这个办件，请核对编号和查询码后重试。", "No application matches; check the number and the access key and try again."),
    ("svc.applicant", "申请人", "Applicant"),
    ("svc.channel", "渠道", "Channel"),
    ("svc.channel.window", "窗口受理", "At a window"),
    ("svc.channel.online", "网上申请", "Online"),
    ("svc.accepted_at", "受理时间", "Accepted"),
    ("svc.deadline", "承诺办结时限", "Promised by"),
    ("svc.department", "审批部门", "Department"),
    ("svc.concluded_at", "办结时间", "Concluded"),
    ("svc.licence", "电子证照", "E-licence"),
    ("svc.material", "材料", "Material"),
    ("svc.source", "来源", "Source"),
    ("svc.reused_count", "复用", "reused:"),
    ("svc.source.submitted", "本次提交（电子件）", "Submitted now (file)"),
    ("svc.source.paper", "本次提交（纸质件）", "Submitted now (paper)"),
    ("svc.source.licence", "电子证照库调取", "From the e-licence library"),
    ("svc.source.earlier", "复用此前办件材料", "Reused from an earlier application"),
    ("svc.steps", "审批环节", "Approval steps"),
    ("svc.step", "环节", "Step"),
    ("svc.decided_at", "审批时间与意见", "Decided"),
    ("svc.step.pending", "待审批", "To decide"),
    ("svc.step.waiting", "待前序环节", "Waiting for an earlier step"),
    ("svc.step.approved", "通过", "Approved"),
    ("svc.step.rejected", "不通过", "Rejected"),
    ("svc.step.cancelled", "已取消", "Cancelled"),
    ("svc.state.in_review", "审查中", "In review"),
    ("svc.state.suspended", "特殊环节（计时暂停）", "Special step (clock stopped)"),
    ("svc.state.approved", "已办结（准予）", "Concluded: approved"),
    ("svc.state.rejected", "已办结（不予）", "Concluded: rejected"),
    ("svc.sla.on_time", "正常", "On time"),
    ("svc.sla.warning", "即将超期", "Due within a working day"),
    ("svc.sla.overdue", "已超期", "Overdue"),
    ("svc.sla.suspended", "计时暂停", "Clock stopped"),
    ("svc.sla.concluded", "按期办结", "Concluded on time"),
    ("svc.sla.concluded_late", "超期办结", "Concluded late"),
    ("svc.history", "办理记录", "History"),
    ("svc.event.accept", "受理", "Accepted"),
    ("svc.event.approve", "审批通过", "Step approved"),
    ("svc.event.reject", "审批不通过", "Step rejected"),
    ("svc.event.advance", "进入下一环节", "Next step opened"),
    ("svc.event.conclude", "办结", "Concluded"),
    ("svc.event.suspend", "进入特殊环节", "Special step began"),
    ("svc.event.resume", "恢复计时", "Clock resumed"),
    ("svc.event.warning", "临近时限预警", "Deadline warning"),
    ("svc.event.overdue", "超期", "Overdue"),
    ("svc.open", "查看办件", "Open the application"),
    ("psvc.title", "网上办事", "Government services online"),
    (
        "psvc.intro",
        "一网通办：选择事项，凭身份证号码或统一社会信用代码在线申请；政府已有的材料不用再交。",
        "Apply online with your resident ID number or credit code; materials the government already holds need not be given again.",
    ),
    ("psvc.apply", "在线申请", "Apply online"),
    ("psvc.verify", "核验证书或电子证照", "Verify a certificate or e-licence"),
    ("psvc.rate", "评价（好差评）", "Rate the service"),
    ("psvc.download_licence", "下载电子证照（可离线核验的文件）", "Download the e-licence (a file anyone can verify offline)"),
    ("psvc.grade", "评价等级", "Grade"),
    ("psvc.grade.5", "非常满意", "Very satisfied"),
    ("psvc.grade.4", "满意", "Satisfied"),
    ("psvc.grade.3", "基本满意", "Fairly satisfied"),
    ("psvc.grade.2", "不满意", "Dissatisfied"),
    ("psvc.grade.1", "非常不满意", "Very dissatisfied"),
    ("psvc.comment", "意见建议（选填）", "Comment (optional)"),
    ("psvc.rate_submit", "提交评价", "Send the rating"),
    ("psvc.rated", "感谢您的评价", "Thank you for rating"),
    ("psvc.rectify", "我们将在15个工作日内整改并回访。", "The unit will put it right and call you back within 15 working days."),
    ("login.title", "统一登录", "Sign in"),
    (
        "login.intro",
        "全体工作人员使用同一账号登录，登录后进入各自的工作台。",
        "All staff sign in here once and land on their own workbench.",
    ),
    ("login.change_intro", "该密码为一次性密码，请设置您自己的新密码。", "This password works once: choose your own new password."),
    ("login.new_password", "新密码", "New password"),
    ("login.username", "用户名", "Username"),
    ("login.password", "密码", "Password"),
    ("login.submit", "登录", "Sign in"),
    (
        "login.citizen",
        "群众反映问题、查询进度，请前往群众服务。",
        "Citizens: report a problem or follow one in the citizen portal.",
    ),
    ("common.done", "已完成", "Done"),
    ("common.error", "出错了", "Something went wrong"),
    (
        "common.network",
        "无法连接服务器，请检查网络后重试。",
        "Cannot reach the server; check the network and try again.",
    ),
    ("common.colon", "：", ": "),
    ("common.none", "暂无", "None"),
    ("common.state", "状态", "State"),
    ("common.class", "类别", "Class"),
    ("common.description", "问题描述", "Description"),
    ("common.grid", "网格", "Grid"),
    ("common.address", "地址", "Address"),
    ("common.deadline", "处置时限", "Deadline"),
    ("common.department", "主办部门", "Lead department"),
    ("common.reported", "上报时间", "Reported"),
    ("common.overdue", "已超期", "Overdue"),
    ("common.note", "说明", "Note"),
    ("common.note_required", "说明（必填）", "Note (required)"),
    ("common.choose", "请选择", "Choose"),
    ("common.back", "返回", "Back"),
    ("case.count", "件", "cases"),
    ("case.actions", "操作", "Actions"),
    ("case.duplicate_of", "重复于案卷 ID", "Duplicate of case ID"),
    ("case.extension_days", "延期天数", "Days of extension"),
    ("case.approve", "同意延期", "Approve the extension"),
    ("case.rating", "满意度（1–5）", "Satisfaction (1–5)"),
    (
        "case.likely_duplicates",
        "疑似重复（同类问题、距离很近、较早上报）：",
        "Likely duplicates (same class, close by, reported earlier):",
    ),
    ("case.distance", "相距", "distance"),
    ("case.merge_into", "合并到", "Merge into"),
    ("report.title", "上报问题", "Report a problem"),
    ("report.class", "问题类别", "Problem class"),
    ("report.description", "问题描述", "What is wrong"),
    ("report.address", "地址或位置说明", "Address or landmark"),
    ("report.location", "位置", "Location"),
    (
        "report.map_hint",
        "在地图上点击问题所在位置，或直接填写坐标。",
        "Tap the spot on the map, or type the coordinates.",
    ),
    ("report.lng", "经度", "Longitude"),
    ("report.lat", "纬度", "Latitude"),
    ("report.datum", "坐标系", "Datum"),
    ("report.gps", "使用我的位置", "Use my location"),
    ("report.gps_failed", "无法获取当前位置。", "Could not get your position."),
    ("report.located", "所在网格", "In grid"),
    ("report.submit", "提交上报", "Send the report"),
    ("report.sent", "上报成功，受理编号", "Report received. Case number"),
    ("report.keep", "请记下受理编号，用于查询进度。", "Keep the case number to follow its progress."),
    ("report.duplicates", "附近可能有重复的案卷", "Possible duplicates nearby"),
    ("report.name", "姓名（可不填）", "Your name (optional)"),
    ("report.contact", "联系方式（可不填）", "Contact (optional)"),
    ("photo.add", "照片（可多张）", "Photos (one or more)"),
    ("photo.show", "查看照片", "Photos"),
    ("photo.none", "没有照片。", "No photos."),
    ("photo.alt", "案卷照片", "Photo of the case"),
    ("photo.sent", "张照片已上传", "photo(s) uploaded"),
    (
        "photo.hint",
        "JPEG、PNG 或 WebP，每张不超过 5 MB；随上报一并提交。",
        "JPEG, PNG or WebP, up to 5 MB each; sent with the report.",
    ),
    ("grid.title", "网格员工作台", "Grid worker workbench"),
    ("grid.my_grids", "我的网格", "My grids"),
    ("grid.to_verify", "待我核查", "Cases for me to verify"),
    ("grid.recent", "我网格内的案卷", "Cases in my grids"),
    ("desk.title", "受理·立案·派遣", "Intake, filing and dispatch"),
    ("desk.received", "待受理的上报", "Reports to accept"),
    ("desk.accepted", "待立案", "Cases to file"),
    ("desk.to_dispatch", "待派遣（含回退）", "Cases to dispatch (and returned ones)"),
    ("desk.verified", "待结案", "Cases to close"),
    ("desk.callback", "待回访评价（已结案）", "Callbacks to record (closed cases)"),
    ("desk.suspended", "挂账中", "Suspended cases"),
    ("desk.extensions", "延期申请", "Extension requests"),
    ("handler.title", "部门处置工作台", "Department workbench"),
    ("handler.dispatched", "待接收", "Cases to take"),
    ("handler.working", "处置中与返工", "Being handled and rework"),
    ("command.title", "指挥中心 · 网格一张图", "Command centre · one map"),
    ("command.live", "实时", "Live"),
    ("command.offline", "实时连接中断，正在重连…", "Live connection lost; reconnecting…"),
    ("command.legend", "图例", "Legend"),
    ("command.changes", "最新动态", "Latest changes"),
    ("command.indicators", "近 30 天考核指标", "Indicators, last 30 days"),
    ("command.area", "区域", "Area"),
    ("command.closure_rate", "结案率", "Closure rate"),
    ("command.on_time_closure_rate", "按期结案率", "On-time closure"),
    ("command.handling_rate", "处置率", "Handling rate"),
    ("command.rework_rate", "返工率", "Rework rate"),
    ("command.filed", "立案数", "Filed"),
    ("command.shown", "地图显示最近的案卷", "The map shows the most recent cases"),
    ("command.departments", "各部门按期结案率（近 30 天）", "On-time closure by department (last 30 days)"),
    ("command.departments_hint", "括号内为按期结案数/立案数。", "In brackets: closed on time / filed."),
    ("command.grid", "网格详情", "Grid"),
    (
        "command.grid_hint",
        "点击地图上的网格或案卷，查看该网格的案卷和网格员。",
        "Click a grid or a case on the map to see the grid's cases and workers.",
    ),
    ("command.workers", "网格员", "Grid workers"),
    ("command.part_time", "兼职", "part-time"),
    ("command.grid_cases", "本网格案卷", "Cases in this grid"),
    ("command.supervise_note", "督办意见", "Supervision note"),
    ("command.supervised", "已督办", "Supervised"),
    ("command.group.intake", "受理立案中", "Intake and filing"),
    ("command.group.dispatch", "待派遣", "To dispatch"),
    ("command.group.department", "部门处置中", "With the department"),
    ("command.group.verify", "待核查结案", "To verify and close"),
    ("command.group.closed", "已结案", "Closed"),
    ("command.group.ended", "不予立案/合并", "Refused or merged"),
    ("map.title", "网格一张图", "One map of grids"),
    (
        "map.hint",
        "点击地图上的任一位置（或输入坐标），查询其所属网格、社区、街道。",
        "Click anywhere on the map (or type a point) to find its grid, community and subdistrict.",
    ),
    ("map.locate", "查询", "Look up"),
    ("map.grids", "个网格", "grids"),
    ("map.point", "坐标（GCJ-02）", "Point (GCJ-02)"),
    ("map.district", "区", "District"),
    ("map.subdistrict", "街道/镇", "Subdistrict"),
    ("map.community", "社区/村", "Community"),
    ("map.zoom_in", "放大", "Zoom in"),
    ("map.zoom_out", "缩小", "Zoom out"),
    ("map.zoom_reset", "全图", "Whole map"),
    (
        "map.api",
        "接口：/api/v1/locate · /api/v1/grids.geojson · /api/v1/openapi.json · /healthz · /metrics",
        "API: /api/v1/locate · /api/v1/grids.geojson · /api/v1/openapi.json · /healthz · /metrics",
    ),
    ("queue.changed", "案卷有新的变化。", "Cases have changed."),
    ("queue.refresh", "刷新列表", "Refresh the list"),
    ("cases.title", "我可查看的案卷", "Cases I may see"),
    (
        "cases.no_workbench",
        "您的角色暂无专门工作台，下面是您可查看的案卷。",
        "Your roles have no workbench of their own yet; here are the cases you may see.",
    ),
    ("portal.title", "群众服务", "Citizen portal"),
    (
        "portal.intro",
        "随手拍、随时报：反映身边的问题，凭受理编号查询办理进度。",
        "Report a problem around you and follow it by its case number.",
    ),
    ("portal.follow", "查询办理进度", "Follow a case"),
    ("portal.number", "受理编号", "Case number"),
    ("portal.search", "查询", "Look up"),
    ("portal.not_found", "没有找到这个受理编号，请核对后重试。", "No case has this number; check it and try again."),
    ("portal.progress", "办理进度", "Progress"),
    ("portal.agency", "承办部门", "Handled by"),
    ("portal.updated", "更新时间", "Updated"),
    ("portal.closed_at", "办结时间", "Closed"),
    ("portal.rate", "评价办理结果", "Rate how it was handled"),
    (
        "portal.rate_intro",
        "请填写上报时留下的联系电话或电子邮箱，以确认您是上报人。每件只能评价一次。",
        "Give the phone number or e-mail address you left with the report, to show that you reported it. A case takes one rating.",
    ),
    ("portal.rate_grade", "满意程度", "Satisfaction"),
    ("portal.rate_contact", "上报时留下的联系方式", "Contact left with the report"),
    ("portal.rate_submit", "提交评价", "Send the rating"),
    ("portal.rated", "已评价，感谢您的反馈。", "Rated. Thank you for telling us."),
    (
        "portal.rate_by_callback",
        "上报时没有留下联系方式，不能在网上评价；回访员会电话回访，听取您的评价。",
        "It was reported without a contact, so it cannot be rated online; the callback operator will call to ask for your rating.",
    ),
    ("role.grid_worker", "网格员", "grid worker"),
    ("role.intake_operator", "受理员", "intake operator"),
    ("role.shift_leader", "值班长", "shift leader"),
    ("role.dispatcher", "派遣员", "dispatcher"),
    ("role.handler", "处置人员", "handler"),
    ("role.commander", "指挥中心", "commander"),
    ("role.window_clerk", "窗口人员", "window clerk"),
    ("role.approver", "审批人员", "approver"),
    ("role.safety_officer", "公安/运管审核员", "safety officer"),
    ("role.auditor", "审计", "auditor"),
    ("role.witness", "见证部门", "witness"),
    ("role.admin", "系统管理员", "administrator"),
    ("role.security_admin", "安全管理员", "security administrator"),
    ("forbidden.title", "无权访问", "Not allowed"),
    ("forbidden.body", "您的角色不包含这个工作台。", "Your roles do not include this workbench."),
    ("state.received", "待受理", "Received"),
    ("state.accepted", "待立案", "Accepted"),
    ("state.filed", "待派遣", "Filed"),
    ("state.refused", "不予立案", "Refused"),
    ("state.merged", "已合并", "Merged"),
    ("state.dispatched", "待处置", "Dispatched"),
    ("state.returned", "已回退", "Returned"),
    ("state.handling", "处置中", "Being handled"),
    ("state.suspended", "挂账", "Suspended"),
    ("state.handled", "待核查", "Handled, to verify"),
    ("state.rework", "返工", "Rework"),
    ("state.verified", "待结案", "Verified, to close"),
    ("state.closed", "已结案", "Closed"),
    ("action.accept", "受理", "Accept"),
    ("action.merge", "合并为重复", "Merge as duplicate"),
    ("action.self_handle", "自行处置", "Handle it myself"),
    ("action.file", "立案", "File"),
    ("action.refuse", "不予立案", "Refuse"),
    ("action.dispatch", "派遣", "Dispatch"),
    ("action.take", "接收处置", "Take"),
    ("action.return", "回退", "Return"),
    ("action.feedback", "处置反馈", "Send feedback"),
    ("action.pass", "核查通过", "Verified: fixed"),
    ("action.fail", "核查不通过", "Not fixed: rework"),
    ("action.close", "结案", "Close"),
    ("action.suspend", "挂账", "Suspend"),
    ("action.resume", "恢复处置", "Resume"),
    ("action.request_extension", "申请延期", "Ask for an extension"),
    ("action.decide_extension", "审批延期", "Decide the extension"),
    ("action.supervise", "督办", "Supervise"),
    ("action.escalate", "升级", "Escalate"),
    ("action.rate", "回访评价", "Record the rating"),
];

/// (`error.CODE`, 中文, English) for the codes the API answers with (docs/API-DESIGN.md). A
/// code missing here is shown with the server's own message.
pub const ERRORS: &[(&str, &str, &str)] = &[
    ("error.import_refused", "文件有问题，未导入。", "The file has problems; nothing was imported."),
    ("error.missing_datum", "请声明文件的坐标系。", "Say which datum the file is in."),
    ("error.department_exists", "部门已存在。", "That department already exists."),
    ("error.department_not_found", "部门不存在。", "No such department."),
    (
        "error.invalid_department_code",
        "部门代码只能由小写字母、数字和下划线组成。",
        "A department code is lower-case letters, digits and underscores.",
    ),
    ("error.invalid_display_name", "请填写名称。", "Give a name."),
    ("error.invalid_name", "名称有误。", "The name is not valid."),
    ("error.invalid_username", "用户名格式有误。", "The username is not valid."),
    ("error.username_taken", "用户名已被使用。", "That username is taken."),
    ("error.password_change_required", "该密码由管理员设置，仅可使用一次：请先修改密码。", "This password was set by an administrator and works once: change it first."),
    ("error.duties_combined", "一个账号只能担任系统管理员、安全管理员、审计员中的一个（三权分立）。", "One account holds at most one of system administrator, security administrator and auditor."),
    ("error.area_required", "请指定账号所属区域。", "Give the account's area."),
    ("error.invalid_token_lifetime", "API 令牌有效期须为 1–365 天。", "An API token is valid for 1–365 days."),
    ("error.weak_password", "密码太弱：至少 10 位，包含大写字母、小写字母、数字、符号中的三类，不含用户名，且非常见密码。", "The password is too weak: at least 10 characters of three kinds (upper case, lower case, digits, symbols), without the username, not a common password."),
    ("error.unknown_role", "角色不存在。", "No such role."),
    ("error.staff_not_found", "工作人员不存在。", "No such staff member."),
    ("error.area_not_found", "区域不存在。", "No such area."),
    ("error.grid_not_found", "网格不存在。", "No such grid."),
    (
        "error.department_required",
        "专业部门处置人员和审批人员须有所属部门。",
        "Handlers and approvers need a department.",
    ),
    ("error.invalid_worker_kind", "网格员类型须为专职或兼职。", "The grid worker kind must be full-time or part-time."),
    (
        "error.not_grid_worker",
        "只有网格员可以负责网格，请同时授予网格员角色。",
        "Only grid workers work in grids; give the grid worker role too.",
    ),
    ("error.parent_missing", "上级区域不存在。", "The parent area does not exist."),
    (
        "error.second_district",
        "已有一个区，不能再导入另一个区。",
        "There is already a district; a second one cannot be imported.",
    ),
    ("error.unknown_item", "办理事项不存在。", "That service item does not exist."),
    ("error.item_not_found", "办理事项不存在。", "That service item does not exist."),
    ("error.item_inactive", "该事项暂停办理。", "This item is not offered at present."),
    ("error.invalid_item", "事项定义有误。", "The item definition is not valid."),
    (
        "error.applicant_type_mismatch",
        "证件类型与事项不符：个人事项填身份证号码，法人事项填统一社会信用代码。",
        "Wrong kind of number: personal items take a resident ID number, organisation items a credit code.",
    ),
    ("error.not_eligible", "申请人不符合该事项的申请条件。", "The applicant does not meet the item's conditions."),
    ("error.unknown_material", "该事项没有这项材料。", "The item has no such material."),
    ("error.duplicate_material", "同一材料提交了两次。", "A material was given twice."),
    (
        "error.material_wrong_format",
        "材料格式不符合要求（以文件内容为准）。",
        "A material is not in an accepted format (judged by its content).",
    ),
    ("error.material_too_large", "材料文件过大。", "A material file is too large."),
    ("error.invalid_material", "材料内容有误。", "A material is not valid."),
    (
        "error.invalid_id_number",
        "公民身份号码格式有误（18位）。",
        "The resident ID number is malformed (18 characters).",
    ),
    (
        "error.invalid_id_number_birth_date",
        "公民身份号码中的出生日期无效。",
        "The birth date in the resident ID number is not a date.",
    ),
    (
        "error.invalid_id_number_checksum",
        "公民身份号码校验位不正确，请核对。",
        "The resident ID number's check character is wrong; check it.",
    ),
    (
        "error.invalid_credit_code",
        "统一社会信用代码格式有误（18位）。",
        "The credit code is malformed (18 characters).",
    ),
    (
        "error.invalid_credit_code_checksum",
        "统一社会信用代码校验位不正确，请核对。",
        "The credit code's check character is wrong; check it.",
    ),
    ("error.application_not_found", "办件不存在或您无权查看。", "No such application, or it is not visible to you."),
    ("error.notice_not_found", "通知书不存在。", "No such notice."),
    ("error.step_not_found", "本部门在此办件上没有这个环节。", "Your department has no such step on this application."),
    ("error.application_concluded", "办件已办结，不能再更改。", "The application is concluded; nothing can change."),
    (
        "error.out_of_turn",
        "前序环节尚未办结，还没轮到本部门。",
        "An earlier step is still open; it is not your turn yet.",
    ),
    ("error.already_decided", "本部门已审批过这个环节。", "Your department has already decided this step."),
    (
        "error.application_suspended",
        "办件处于特殊环节，请先恢复计时。",
        "The application is in a special step; resume it first.",
    ),
    ("error.not_suspended", "办件不在特殊环节中。", "The application is not suspended."),
    ("error.criterion_unchecked", "还有审查要点未填写。", "Some criteria are not checked yet."),
    ("error.unknown_criterion", "该环节没有这项审查要点。", "The step has no such criterion."),
    ("error.criteria_not_met", "准予通过须全部审查要点均符合。", "Approval needs every criterion met."),
    (
        "error.rejection_without_unmet_criterion",
        "不予通过须至少指明一项不符合的审查要点。",
        "A rejection must name at least one criterion not met.",
    ),
    ("error.unknown_special_step", "该事项没有这个特殊环节。", "The item has no such special step."),
    ("error.no_department", "此操作需要所属部门。", "This needs a staff account with a department."),
    ("error.invalid_rating", "请选择 1–5 的评价。", "Choose a rating from 1 to 5."),
    ("error.case_not_closed", "案件办结后才能评价。", "A case can be rated once it is closed."),
    ("error.invalid_comment", "意见建议最多 500 字。", "The comment may be at most 500 characters."),
    ("error.contact_required", "请填写上报时留下的联系方式。", "Give the contact you left with the report."),
    ("error.contact_mismatch", "联系方式与上报时留下的不一致。", "That is not the contact left with the report."),
    (
        "error.no_reporter_contact",
        "上报时没有留下联系方式，不能在网上评价；回访员会电话回访。",
        "It was reported without a contact, so it cannot be rated online; the callback operator will call.",
    ),
    ("error.already_rated", "已经评价过了，每件只能评价一次。", "It has already been rated; one rating each."),
    ("error.not_concluded", "办结后才能评价。", "It can be rated once concluded."),
    ("error.rectification_not_found", "整改任务不存在。", "No such rectification task."),
    (
        "error.illegal_rectification_state",
        "整改任务当前状态不允许此操作。",
        "The rectification task does not allow this now.",
    ),
    ("error.invalid_period", "统计期间有误。", "The period is not valid."),
    ("error.invalid_credentials", "用户名或密码不正确。", "Wrong username or password."),
    ("error.unauthenticated", "登录已失效，请重新登录。", "Your session has ended; please sign in again."),
    ("error.too_many_attempts", "尝试次数过多，请稍后再试。", "Too many attempts; try again later."),
    (
        "error.too_many_requests",
        "来自您地址的请求过多，请稍后再试。",
        "Too many requests from your address; try again later.",
    ),
    ("error.forbidden", "您的角色无权进行此操作。", "Your roles do not allow this."),
    ("error.case_not_found", "案卷不存在或您无权查看。", "The case does not exist or you may not see it."),
    (
        "error.illegal_transition",
        "案卷当前状态不允许此操作，可能已被他人处理，请刷新。",
        "The case's state does not allow this now; someone may have acted on it. Please refresh.",
    ),
    (
        "error.case_changed",
        "案卷刚被他人更新，请刷新后重试。",
        "Someone else has just changed the case; refresh and try again.",
    ),
    (
        "error.verifier_is_handler",
        "核查人不能是处置反馈人。",
        "The verifier must not be the handler who gave the feedback.",
    ),
    ("error.note_required", "请填写说明（原因）。", "Please give a note with the reason."),
    ("error.class_required", "请先选择问题类别。", "Choose the problem class first."),
    ("error.location_required", "请先给出问题位置。", "Give the problem's location first."),
    ("error.missing_location", "请在地图上点选或填写问题位置。", "Tap the map or type the problem's location."),
    ("error.partial_location", "经度和纬度需同时填写。", "Give both longitude and latitude."),
    ("error.unknown_channel", "不支持的上报渠道。", "That reporting channel is not known."),
    ("error.unknown_class", "问题类别不存在或已停用。", "That problem class does not exist or is inactive."),
    ("error.unknown_department", "部门不存在。", "That department does not exist."),
    (
        "error.invalid_description",
        "请填写问题描述（不超过 4000 字）。",
        "Describe the problem (at most 4,000 characters).",
    ),
    ("error.invalid_field", "填写的内容有误，请检查。", "A field is not valid; please check it."),
    (
        "error.self_handle_not_allowed",
        "此类问题不允许网格员自行处置。",
        "This class may not be handled by the grid worker.",
    ),
    ("error.invalid_duplicate", "请填写另一件未办结案卷的 ID。", "Give the ID of another open case."),
    ("error.no_extension_requested", "没有待审批的延期申请。", "No extension has been requested."),
    ("error.already_at_top", "案卷已升级到最高层级。", "The case is already at the top level."),
    ("error.no_last_resort_department", "未设置兜底部门。", "No owner-of-last-resort department is set."),
    (
        "error.invalid_photo",
        "照片须为不超过 5 MB 的 JPEG、PNG 或 WebP 图片。",
        "Photos must be JPEG, PNG or WebP images of at most 5 MiB.",
    ),
    ("error.too_many_photos", "每件案卷最多 12 张照片。", "A case carries at most 12 photos."),
    (
        "error.case_photos_withheld",
        "案卷照片只向办理该案卷的人员显示。",
        "A case's photos are shown only to those who act on the case.",
    ),
    (
        "error.photo_not_permitted",
        "只有在案卷当前环节办理它的人员（所在网格的网格员、所在区域的受理员、值班长、派遣员或主办部门的处置员）可以上传照片。",
        "Photos are added only by those who act on the case now: its grid worker, the intake operator, shift leader or dispatcher of its area, or a handler of its lead department.",
    ),
    ("error.already_revoked", "该证书已经撤销。", "The certificate is already revoked."),
    (
        "error.access_key_throttled",
        "查询码错误次数过多，请稍后再试。",
        "Too many wrong access keys for this application; try again later.",
    ),
    (
        "error.licence_type_owned_elsewhere",
        "这种电子证照由另一个部门签发，本部门的事项不能签发。",
        "Another department issues this e-licence type; an item of this department cannot issue it.",
    ),
    (
        "error.application_not_approved",
        "办件尚未准予办结，不能签发电子证照。",
        "The application is not approved; no e-licence can be issued for it.",
    ),
    ("error.item_issues_no_licence", "该事项不签发电子证照。", "This item issues no e-licence."),
    (
        "error.licence_in_force",
        "该办件的电子证照仍然有效，须先撤销才能重新签发。",
        "The application's e-licence is still in force; revoke it before issuing another.",
    ),
    ("error.area_exists", "该区划编码已存在。", "An area with that code already exists."),
    (
        "error.certificate_damaged",
        "存储的证书已损坏，无法核验；请联系发证部门。",
        "The stored certificate is damaged and cannot be verified; contact the issuing department.",
    ),
    ("error.certificate_not_found", "没有这个编号的证书。", "No certificate has that number."),
    (
        "error.invalid_code",
        "编码格式不对：街道、社区段为 001–999，网格段为 01–99。",
        "The code is malformed: subdistrict and community segments run 001–999, grid segments 01–99.",
    ),
    ("error.wrong_code_level", "编码的位数与所选层级不符。", "The code's length does not match the level chosen."),
    ("error.invalid_limit", "条数须在 1–1000 之间。", "The limit must be 1–1000."),
    ("error.invalid_path", "地址中的编号格式不对。", "A number in the address is malformed."),
    (
        "error.unsupported_media_type",
        "请求内容须为 JSON（Content-Type: application/json）。",
        "The request must be JSON (Content-Type: application/json).",
    ),
    (
        "error.ledger_damaged",
        "可信账本的存储已损坏；请联系管理员。",
        "The trust ledger's storage is damaged; contact the administrator.",
    ),
    (
        "error.no_checkpoint",
        "可信账本尚无检查点，请稍后再试。",
        "The trust ledger has no checkpoint yet; try again shortly.",
    ),
    (
        "error.not_yet_logged",
        "证书尚未纳入可信检查点，请一秒后再试。",
        "The certificate is not yet covered by a trusted checkpoint; try again in a second.",
    ),
    (
        "error.other_department",
        "只有发证部门可以撤销该证书。",
        "Only the issuing department may revoke this certificate.",
    ),
    ("error.unknown_certificate_type", "不支持这种证书类型。", "That certificate type is not supported."),
    ("error.token_not_found", "该 API 令牌不存在或已撤销。", "That API token does not exist or is already revoked."),
    (
        "error.invalid_key",
        "Open311 密钥须为 8–128 个可打印 ASCII 字符，不含空格。",
        "An Open311 key must be 8–128 printable ASCII characters without spaces.",
    ),
    ("error.witness_conflict", "见证节点记录的账本大小不同。", "The witness holds a different size for this log."),
    ("error.witness_refused", "见证节点拒绝了签名请求。", "The witness refused to cosign."),
    ("error.witness_unreachable", "无法连接见证节点。", "The witness cannot be reached."),
    ("error.witness_bad_response", "见证节点的应答格式不对。", "The witness answered with a malformed body."),
    ("error.witness_state_unavailable", "见证节点的状态无法读取。", "The witness's state cannot be read."),
    ("error.photo_key_required", "缺少上报时发放的照片凭证。", "The photo key given with the report is missing."),
    ("error.photo_key_mismatch", "照片凭证与该案卷不符。", "That photo key is not this case's."),
    (
        "error.photo_key_expired",
        "上报 24 小时后不能再补充照片，请重新上报或联系热线。",
        "Photos can be added for 24 hours after reporting; report again or call the hotline.",
    ),
    ("error.outside_territory", "该位置不在本辖区内。", "That location is outside the territory."),
    ("error.coordinate_out_of_range", "坐标超出范围。", "The coordinates are out of range."),
    ("error.coordinate_not_finite", "坐标无效。", "The coordinates are not valid numbers."),
    ("error.unknown_datum", "不支持的坐标系。", "Unknown datum."),
    ("error.invalid_body", "提交的内容格式有误。", "The request was not in the expected form."),
    ("error.invalid_json", "提交的内容格式有误。", "The request was not in the expected form."),
    ("error.invalid_query", "查询参数有误。", "The query is not valid."),
    ("error.invalid_scope", "查询范围有误。", "The scope is not valid."),
    ("error.body_too_large", "提交的内容过大。", "What you sent is too large."),
    ("error.no_territory", "尚未导入辖区网格。", "No territory has been imported yet."),
    ("error.database_unavailable", "系统繁忙，请稍后重试。", "The system is busy; try again shortly."),
    ("error.internal", "系统内部错误，请稍后重试。", "Internal error; try again shortly."),
    ("error.not_found", "没有找到。", "Not found."),
];

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn every_key_has_both_languages_once() {
        let mut seen = HashSet::new();
        for (k, zh, en) in TEXT.iter().chain(ERRORS) {
            assert!(seen.insert(*k), "duplicate key {k}");
            assert!(!zh.trim().is_empty() && !en.trim().is_empty(), "{k}");
        }
    }

    /// Every `t("…")` in the templates and the browser script names a key of the table.
    #[test]
    fn every_key_the_pages_use_exists() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut sources = vec![dir.join("assets/app.js"), dir.join("assets/map.js")];
        for e in std::fs::read_dir(dir.join("templates")).unwrap() {
            sources.push(e.unwrap().path());
        }
        let mut used = 0;
        for path in sources {
            let text = std::fs::read_to_string(&path).unwrap();
            for (i, _) in text.match_indices("t(\"") {
                // `t(` as a name of its own (`l.t(`, `t(`), not the end of `createElement(`.
                if text[..i].chars().next_back().is_some_and(|c| c.is_alphanumeric() || c == '_') {
                    continue;
                }
                let rest = &text[i + 3..];
                let key = &rest[..rest.find('"').unwrap()];
                if key.ends_with('.') {
                    // A key made at run time (`t("state." + s)`): its family must exist.
                    assert!(TEXT.iter().any(|(k, _, _)| k.starts_with(key)), "{}: no {key}* keys", path.display());
                } else {
                    assert!(TEXT.iter().any(|(k, _, _)| *k == key), "{}: unknown key {key}", path.display());
                }
                used += 1;
            }
        }
        assert!(used > 50, "the scan found the keys ({used})");
    }

    #[test]
    fn every_state_and_action_has_a_label() {
        for s in crate::cases::state::State::ALL {
            assert_ne!(Tr(Lang::En).state(s.as_str()), "?", "{s:?}");
        }
        for r in crate::staff::Role::ALL {
            assert_ne!(Tr(Lang::En).t(&format!("role.{}", r.as_str())), "?", "{r:?}");
        }
        for a in crate::cases::state::Action::ALL {
            let name = serde_json::to_value(a).unwrap();
            assert_ne!(Tr(Lang::Zh).action(name.as_str().unwrap()), "?", "{a:?}");
        }
    }

    /// Every code the services API answers with is told to people in both languages.
    #[test]
    fn every_service_error_has_a_message() {
        use crate::services::ServiceError as E;
        let s = || String::from("x");
        let all = [
            E::InvalidField(s()),
            E::InvalidItem(s()),
            E::Id(crate::identity::IdError::ResidentIdShape),
            E::Id(crate::identity::IdError::ResidentIdBirthDate),
            E::Id(crate::identity::IdError::ResidentIdChecksum),
            E::Id(crate::identity::IdError::CreditCodeShape),
            E::Id(crate::identity::IdError::CreditCodeChecksum),
            E::ItemNotFound(s()),
            E::UnknownItem(s()),
            E::ItemInactive(s()),
            E::UnknownDepartment(s()),
            E::ApplicantTypeMismatch { expected: "person" },
            E::NotEligible(vec![]),
            E::UnknownMaterial(s()),
            E::DuplicateMaterial(s()),
            E::MaterialWrongFormat { code: s(), expected: s(), got: s() },
            E::MaterialTooLarge { code: s(), size: 1, max: 1 },
            E::InvalidMaterial(s(), s()),
            E::ApplicationNotFound(s()),
            E::NoticeNotFound(s()),
            E::Concluded(s()),
            E::OutOfTurn { step: 0 },
            E::AlreadyDecided { step: 0 },
            E::NoSuchStep(0),
            E::CriterionUnchecked(vec![]),
            E::UnknownCriterion(s()),
            E::CriteriaNotMet(vec![]),
            E::NoUnmetCriterion,
            E::NoteRequired(s()),
            E::Suspended(s()),
            E::NotSuspended(s()),
            E::UnknownSpecialStep(s()),
            E::Forbidden("x"),
            E::NoDepartment,
            E::AlreadyRated(s()),
            E::NotConcluded(s()),
            E::RectificationNotFound(0),
            E::RectificationState(s()),
            E::InvalidPeriod(s()),
            E::AccessKeyThrottled { retry_after_s: 1 },
            E::LicenceTypeOwned { licence_type: s(), department: s() },
            E::NotApproved(s()),
            E::NoLicenceForItem(s()),
            E::LicenceInForce(s()),
        ];
        // A new variant fails to compile here until it is added to the list above.
        let listed = |e: &E| match e {
            E::Certificate(_) | E::Store(_) | E::Ledger(_) => false,
            E::InvalidField(_)
            | E::InvalidItem(_)
            | E::Id(_)
            | E::ItemNotFound(_)
            | E::UnknownItem(_)
            | E::ItemInactive(_)
            | E::UnknownDepartment(_)
            | E::ApplicantTypeMismatch { .. }
            | E::NotEligible(_)
            | E::UnknownMaterial(_)
            | E::DuplicateMaterial(_)
            | E::MaterialWrongFormat { .. }
            | E::MaterialTooLarge { .. }
            | E::InvalidMaterial(..)
            | E::ApplicationNotFound(_)
            | E::NoticeNotFound(_)
            | E::Concluded(_)
            | E::OutOfTurn { .. }
            | E::AlreadyDecided { .. }
            | E::NoSuchStep(_)
            | E::CriterionUnchecked(_)
            | E::UnknownCriterion(_)
            | E::CriteriaNotMet(_)
            | E::NoUnmetCriterion
            | E::NoteRequired(_)
            | E::Suspended(_)
            | E::NotSuspended(_)
            | E::UnknownSpecialStep(_)
            | E::Forbidden(_)
            | E::NoDepartment
            | E::AlreadyRated(_)
            | E::NotConcluded(_)
            | E::RectificationNotFound(_)
            | E::RectificationState(_)
            | E::InvalidPeriod(_)
            | E::AccessKeyThrottled { .. }
            | E::LicenceTypeOwned { .. }
            | E::NotApproved(_)
            | E::NoLicenceForItem(_)
            | E::LicenceInForce(_) => true,
        };
        for e in all {
            assert!(listed(&e));
            let key = format!("error.{}", e.code());
            assert_ne!(Tr(Lang::Zh).t(&key), "?", "{key}");
            assert_ne!(Tr(Lang::En).t(&key), "?", "{key}");
        }
    }

    /// Every code the case API answers with is told to people in both languages.
    #[test]
    fn every_case_error_has_a_message() {
        use crate::cases::CaseError as E;
        let s = || String::from("x");
        let all = [
            E::NotFound(0),
            E::InvalidDescription,
            E::MissingLocation(s()),
            E::PartialLocation,
            E::UnknownChannel(s()),
            E::UnknownClass(s()),
            E::UnknownDepartment(s()),
            E::ClassRequired,
            E::LocationRequired,
            E::VerifierIsHandler,
            E::SelfHandleNotAllowed(s()),
            E::InvalidDuplicate,
            E::NoExtensionRequested,
            E::InvalidField(s()),
            E::AlreadyAtTop,
            E::InvalidPhoto,
            E::TooManyPhotos,
            E::Changed(0),
            E::NoLastResort(s()),
            E::NumberNotFound(s()),
            E::InvalidRating,
            E::AlreadyRated,
            E::ReporterCheckThrottled { retry_after_s: 1 },
            E::NotClosed,
            E::InvalidComment,
            E::ContactRequired,
            E::NoReporterContact,
            E::ContactMismatch,
            E::PhotoKeyRequired,
            E::PhotoKeyMismatch,
            E::PhotoKeyExpired,
        ];
        for e in all {
            let key = format!("error.{}", e.code());
            assert_ne!(Tr(Lang::Zh).t(&key), "?", "{key}");
            assert_ne!(Tr(Lang::En).t(&key), "?", "{key}");
        }
    }

    /// Every error code the server can answer with has a message in both languages, so the
    /// pages never fall back to the server's English text. The codes are read from the
    /// sources: each error type's `code()` arms and every `ApiError` built with a literal code.
    #[test]
    fn every_error_code_in_the_sources_has_a_message() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut files = vec![dir];
        let mut codes = HashSet::new();
        while let Some(path) = files.pop() {
            if path.is_dir() {
                files.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
                continue;
            }
            // Open311 answers clients in its own vocabulary, not the pages'.
            if path.extension().is_none_or(|e| e != "rs") || path.ends_with("web/open311.rs") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let mut in_code_fn = false;
            for line in text.lines() {
                let t = line.trim();
                if t.starts_with("//") {
                    continue;
                }
                if t.starts_with("pub fn code(&self) -> &'static str") {
                    in_code_fn = true;
                } else if in_code_fn && line.starts_with("    }") {
                    in_code_fn = false;
                }
                let literal = |after: &str| -> Option<String> {
                    let rest = t.split_once(after)?.1.trim_start().strip_prefix('"')?;
                    let code = &rest[..rest.find('"')?];
                    (!code.is_empty() && code.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
                        .then(|| code.to_owned())
                };
                if in_code_fn {
                    codes.extend(literal("=>"));
                }
                for ctor in ["ApiError::bad_request(", "ApiError::conflict(", "ApiError::not_found("] {
                    codes.extend(literal(ctor));
                }
                // `ApiError::new(StatusCode::…, "code", …)` and `(StatusCode::…, "code")` pairs.
                if let Some((_, status)) = t.split_once("StatusCode::") {
                    let t = status.split_once(',').map_or("", |(_, rest)| rest);
                    let rest = t.trim_start().strip_prefix('"').unwrap_or("");
                    let code = &rest[..rest.find('"').unwrap_or(0)];
                    if !code.is_empty() && code.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
                        codes.insert(code.to_owned());
                    }
                }
            }
        }
        assert!(codes.len() > 100, "the scan finds the codes: {}", codes.len());
        let mut missing: Vec<_> = codes.iter().filter(|c| Tr(Lang::Zh).t(&format!("error.{c}")) == "?").collect();
        missing.sort();
        assert!(missing.is_empty(), "no message for {missing:?}");
    }

    #[test]
    fn the_script_table_cannot_close_its_script_element() {
        let j = Tr(Lang::En).json();
        assert!(!j.contains('<') && !j.contains('>'));
        let v: Value = serde_json::from_str(&j).unwrap();
        assert_eq!(v["errors"]["invalid_credentials"], "Wrong username or password.");
        assert_eq!(v["text"]["login.submit"], "Sign in");
    }

    #[test]
    fn the_cookie_picks_english_only_when_asked() {
        assert_eq!(Lang::from_cookie(None), Lang::Zh);
        assert_eq!(Lang::from_cookie(Some("fr")), Lang::Zh);
        assert_eq!(Lang::from_cookie(Some("en")), Lang::En);
        assert_eq!(Tr(Lang::Zh).t("login.submit"), "登录");
    }
}
