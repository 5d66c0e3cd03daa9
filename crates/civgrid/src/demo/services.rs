//! The demo service catalogue: 33 realistic Chancheng district items from eleven departments,
//! with materials that name their data source (e-licences issued by other items, or an earlier
//! application's copy), explicit checklists and parallel approval steps, plus one approver per
//! department. Names, legal bases and time limits follow published 办事指南 in shape; the
//! figures are illustrative, not the district's official ones.

use crate::audit::Actor;
use crate::db::Db;
use crate::services::catalogue::{
    ApplicantType, Criterion, Eligibility, ItemSpec, MaterialSpec, ResultSpec, SpecialStep, StepSpec,
};
use crate::staff::{NewStaff, Role, RoleGrant, Staff};

/// Whether the applicant numbered `id` meets `item`'s machine-checkable conditions on `today`
/// (age, place of registration), as acceptance checks them: the benchmarks' replays pick
/// applicants the service will accept.
pub fn eligible(item: &crate::services::catalogue::ServiceItem, id: &str, today: chrono::NaiveDate) -> bool {
    crate::services::applications::check_eligibility(item, id, today).is_ok()
}

/// China Standard Time (UTC+8), the clock of working days and local days.
pub fn cst() -> chrono::FixedOffset {
    crate::services::cst()
}

/// Approvers of each department besides 市场监管 (whose approver is the demo's `approver`).
pub const APPROVERS: [(&str, &str, &str); 10] = [
    ("approver_mzj", "民政局审批人员", "mzj"),
    ("approver_gaj", "公安分局审批人员", "gaj"),
    ("approver_wjj", "卫生健康局审批人员", "wjj"),
    ("approver_xzfw", "行政服务中心（公证）审批人员", "xzfw"),
    ("approver_zjsl", "住建水利局审批人员", "zjsl"),
    ("approver_jtj", "交通运输局审批人员", "jtj"),
    ("approver_cgj", "城管执法局审批人员", "cgj"),
    ("approver_sthj", "生态环境分局审批人员", "sthj"),
    ("approver_yjj", "应急管理局审批人员", "yjj"),
    ("approver_xfj", "消防救援大队审批人员", "xfj"),
];

fn m(code: &str, name: &str) -> MaterialSpec {
    MaterialSpec {
        code: code.into(),
        name: name.into(),
        count: 1,
        formats: vec!["pdf".into(), "jpg".into(), "png".into(), "ofd".into()],
        max_kb: 512,
        medium: "electronic".into(),
        required: true,
        licence_type: None,
        reusable: true,
        note: String::new(),
    }
}

/// A material the e-licence library can stand in for.
fn lic(code: &str, name: &str, licence: &str) -> MaterialSpec {
    MaterialSpec { licence_type: Some(licence.into()), ..m(code, name) }
}

/// A form filled in for this application only (never reused).
fn form(code: &str, name: &str) -> MaterialSpec {
    MaterialSpec { formats: vec!["pdf".into()], reusable: false, ..m(code, name) }
}

fn id_card() -> MaterialSpec {
    m("id_card", "居民身份证")
}

fn step(name: &str, departments: &[&str], criteria: &[(&str, &str)]) -> StepSpec {
    StepSpec {
        name: name.into(),
        departments: departments.iter().map(|d| (*d).into()).collect(),
        checklist: criteria
            .iter()
            .map(|(c, t)| Criterion { code: (*c).into(), text: (*t).into(), department: None })
            .collect(),
    }
}

/// A parallel step whose criteria each belong to one department (in the order departments
/// first appear).
fn pstep(name: &str, criteria: &[(&str, &str, &str)]) -> StepSpec {
    let mut departments: Vec<String> = Vec::new();
    for (d, _, _) in criteria {
        if !departments.iter().any(|x| x == d) {
            departments.push((*d).into());
        }
    }
    StepSpec {
        name: name.into(),
        departments,
        checklist: criteria
            .iter()
            .map(|(d, c, t)| Criterion { code: (*c).into(), text: (*t).into(), department: Some((*d).into()) })
            .collect(),
    }
}

fn result(licence_type: &str, name: &str, en: &str, years: Option<i64>) -> Option<ResultSpec> {
    Some(ResultSpec {
        licence_type: licence_type.into(),
        licence_name: name.into(),
        licence_name_en: en.into(),
        valid_years: years,
    })
}

fn special(name: &str, days: i64, counts: bool) -> SpecialStep {
    SpecialStep { name: name.into(), max_days: days, counts_toward_limit: counts, legal_basis: String::new() }
}

#[allow(clippy::too_many_arguments)]
fn item(
    item_type: &str,
    main: &str,
    dept: &str,
    name: &str,
    basis: &str,
    applicant: ApplicantType,
    limits: (i64, i64, i64),
    materials: Vec<MaterialSpec>,
    steps: Vec<StepSpec>,
    result: Option<ResultSpec>,
) -> ItemSpec {
    ItemSpec {
        item_type: item_type.into(),
        main_item: main.into(),
        sub_item: "000".into(),
        department_code: dept.into(),
        name: name.into(),
        legal_basis: basis.into(),
        applicant_type: applicant,
        conditions: Vec::new(),
        eligibility: Eligibility::default(),
        materials,
        legal_limit_days: limits.0,
        promised_limit_days: limits.1,
        special_steps: Vec::new(),
        fees: Vec::new(),
        max_visits: limits.2,
        steps,
        result,
        active: true,
    }
}

use ApplicantType::{Entity, Person};

const TRUE_ID: (&str, &str) = ("identity", "申请人身份信息与证件一致");
const COMPLETE: (&str, &str) = ("materials_complete", "申请材料齐全、符合法定形式");

/// The demo catalogue.
pub fn items() -> Vec<ItemSpec> {
    let mut v = Vec::new();

    // 民政局
    let mut x = item(
        "JF",
        "00101",
        "mzj",
        "高龄老人津贴申请",
        "《广东省民政厅 广东省财政厅关于建立高龄老人津贴制度的通知》；《佛山市高龄老人津贴发放办法》",
        Person,
        (20, 5, 0),
        vec![
            id_card(),
            m("household_register", "户口簿"),
            m("bank_account", "本人银行账户信息"),
            form("application_form", "高龄老人津贴申请表"),
        ],
        vec![step(
            "审核",
            &["mzj"],
            &[
                TRUE_ID,
                ("age_80", "申请人年满80周岁"),
                ("household_foshan", "申请人具有本市户籍"),
                ("not_receiving", "未重复享受同类津贴"),
            ],
        )],
        result("elderly_allowance_decision", "高龄老人津贴核准通知书", "Old-age allowance approval", None),
    );
    x.eligibility = Eligibility { min_age: Some(80), max_age: None, id_area_prefix: Some("4406".into()) };
    x.conditions = vec!["年满80周岁".into(), "具有本市户籍".into()];
    v.push(x);
    let mut x = item(
        "JF",
        "00102",
        "mzj",
        "最低生活保障申请",
        "《社会救助暂行办法》第九条至第十一条；《广东省最低生活保障制度实施办法》",
        Person,
        (30, 20, 1),
        vec![
            id_card(),
            m("household_register", "户口簿"),
            form("income_statement", "家庭收入及财产申报表"),
            form("authorisation", "家庭经济状况核对授权书"),
        ],
        vec![
            step("入户调查", &["mzj"], &[TRUE_ID, ("home_visit", "已完成入户调查并记录")]),
            step(
                "审批",
                &["mzj"],
                &[("income_below_line", "家庭人均收入低于当地低保标准"), ("assets_within", "家庭财产符合规定")],
            ),
        ],
        result("subsistence_allowance_certificate", "最低生活保障证", "Subsistence allowance certificate", Some(1)),
    );
    x.special_steps = vec![special("家庭经济状况核对", 15, false), special("公示", 7, false)];
    v.push(x);
    v.push(item(
        "JF",
        "00103",
        "mzj",
        "困难残疾人生活补贴申请",
        "《国务院关于全面建立困难残疾人生活补贴和重度残疾人护理补贴制度的意见》",
        Person,
        (20, 10, 1),
        vec![
            id_card(),
            lic("disability_certificate", "残疾人证", "disability_certificate"),
            m("household_register", "户口簿"),
            form("application_form", "补贴申请审批表"),
        ],
        vec![step(
            "审核",
            &["mzj"],
            &[TRUE_ID, ("disabled", "持有第二代残疾人证"), ("low_income", "属低保或低保边缘家庭")],
        )],
        None,
    ));
    v.push(item(
        "QR",
        "00104",
        "mzj",
        "内地居民结婚登记",
        "《婚姻登记条例》第四条至第七条",
        Person,
        (1, 1, 1),
        vec![
            id_card(),
            m("household_register", "户口簿"),
            m("photo_couple", "双方近期半身免冠合影照片"),
            form("declaration", "申请结婚登记声明书"),
        ],
        vec![step(
            "审查登记",
            &["mzj"],
            &[
                TRUE_ID,
                ("age", "男方年满22周岁、女方年满20周岁"),
                ("unmarried", "双方均无配偶"),
                ("voluntary", "双方自愿"),
            ],
        )],
        result("marriage_certificate", "结婚证", "Marriage certificate", None),
    ));
    v.push(item(
        "GG",
        "00105",
        "mzj",
        "基本殡葬服务费用减免",
        "《佛山市惠民殡葬政策实施办法》",
        Person,
        (10, 3, 0),
        vec![id_card(), m("death_certificate", "死亡证明"), form("application_form", "减免申请表")],
        vec![step("审核", &["mzj"], &[TRUE_ID, ("household", "逝者具有本市户籍")])],
        None,
    ));
    v.push(item(
        "QR",
        "00106",
        "mzj",
        "社会团体成立登记",
        "《社会团体登记管理条例》第十一条",
        Entity,
        (60, 20, 1),
        vec![
            form("application_form", "成立登记申请书"),
            m("charter", "章程草案"),
            m("premises_proof", "住所使用证明"),
            m("capital_proof", "验资报告"),
        ],
        vec![step("审查", &["mzj"], &[COMPLETE, ("members", "会员数量符合规定"), ("charter_ok", "章程符合规定")])],
        result("social_organisation_certificate", "社会团体法人登记证书", "Social organisation registration", Some(5)),
    ));

    // 公安分局
    v.push(item(
        "QR",
        "00201",
        "gaj",
        "居住证办理",
        "《居住证暂行条例》第九条至第十条；《广东省流动人口服务管理条例》",
        Person,
        (15, 10, 1),
        vec![
            id_card(),
            m("photo", "近期免冠证件照（数码回执）"),
            m("residence_proof", "居住证明（租赁合同或房产证明）"),
            form("application_form", "居住证申领登记表"),
        ],
        vec![step(
            "审核制证",
            &["gaj"],
            &[TRUE_ID, ("resided_6_months", "在本地居住满半年"), ("residence_proof_ok", "居住证明真实有效")],
        )],
        result("residence_permit", "广东省居住证", "Guangdong residence permit", Some(1)),
    ));
    v.push(item(
        "GG",
        "00202",
        "gaj",
        "无犯罪记录证明开具",
        "《公安部关于印发〈公安机关办理犯罪记录查询工作规定〉的通知》",
        Person,
        (7, 3, 1),
        vec![id_card(), form("application_form", "犯罪记录查询申请表")],
        vec![step("查询核实", &["gaj"], &[TRUE_ID, ("records_checked", "已查询全国违法犯罪人员信息资源库")])],
        result("no_criminal_record", "无犯罪记录证明", "Certificate of no criminal record", None),
    ));
    v.push(item(
        "QR",
        "00203",
        "gaj",
        "户口迁入（投靠亲属）",
        "《中华人民共和国户口登记条例》第十三条；《佛山市户籍管理办法》",
        Person,
        (20, 10, 1),
        vec![
            id_card(),
            m("household_register", "户口簿"),
            m("kinship_proof", "亲属关系证明"),
            lic("residence_permit", "居住证", "residence_permit"),
        ],
        vec![step("审批", &["gaj"], &[TRUE_ID, ("kinship", "亲属关系属实"), ("housing", "有合法稳定住所")])],
        None,
    ));
    v.push(item(
        "XK",
        "00204",
        "gaj",
        "居民身份证换领",
        "《中华人民共和国居民身份证法》第七条至第十一条",
        Person,
        (60, 20, 1),
        vec![
            m("household_register", "户口簿"),
            m("photo", "近期免冠证件照（数码回执）"),
            form("application_form", "居民身份证申领登记表"),
        ],
        vec![step("审核制证", &["gaj"], &[TRUE_ID, ("fingerprints", "已采集指纹信息")])],
        result("resident_id_receipt", "居民身份证领取凭证", "ID card collection receipt", None),
    ));
    let mut x = item(
        "XK",
        "00205",
        "gaj",
        "大型群众性活动安全许可",
        "《大型群众性活动安全管理条例》第十一条至第十四条",
        Entity,
        (7, 5, 1),
        vec![
            form("application_form", "大型群众性活动安全许可申请表"),
            m("security_plan", "活动安全工作方案"),
            m("venue_contract", "场地租赁合同"),
            lic("business_licence", "营业执照", "business_licence"),
        ],
        vec![
            step("受理审查", &["gaj"], &[COMPLETE]),
            pstep(
                "并联审查",
                &[
                    ("gaj", "security_plan_ok", "安全工作方案符合要求"),
                    ("xfj", "fire_safety_ok", "消防设施和疏散通道符合要求"),
                ],
            ),
        ],
        result("mass_event_permit", "大型群众性活动安全许可决定书", "Mass event safety permit", None),
    );
    x.special_steps = vec![special("现场检查", 2, true)];
    v.push(x);

    // 市场监督管理局
    let mut x = item(
        "XK",
        "00301",
        "scjg",
        "个体工商户设立登记",
        "《促进个体工商户发展条例》；《中华人民共和国市场主体登记管理条例》第八条",
        Person,
        (15, 1, 0),
        vec![
            id_card(),
            m("premises_proof", "经营场所使用证明"),
            form("application_form", "个体工商户登记（备案）申请书"),
        ],
        vec![step(
            "登记审查",
            &["scjg"],
            &[
                TRUE_ID,
                ("name_ok", "名称符合《企业名称登记管理规定》"),
                ("premises_ok", "经营场所真实合法"),
                ("scope_ok", "经营范围符合规定"),
            ],
        )],
        result("business_licence_individual", "营业执照（个体工商户）", "Business licence (individual)", None),
    );
    x.eligibility = Eligibility { min_age: Some(18), max_age: None, id_area_prefix: None };
    v.push(x);
    let food = vec![
        lic("business_licence", "营业执照", "business_licence_individual"),
        id_card(),
        m("premises_proof", "经营场所使用证明"),
        MaterialSpec { formats: vec!["pdf".into(), "png".into()], ..m("floor_plan", "经营场所平面布局图") },
        form("food_safety_rules", "食品安全管理制度"),
        form("application_form", "食品经营许可申请书"),
    ];
    let mut x = item(
        "XK",
        "00302",
        "scjg",
        "食品经营许可",
        "《中华人民共和国食品安全法》第三十五条；《食品经营许可和备案管理办法》",
        Person,
        (20, 10, 1),
        food.clone(),
        vec![
            step("材料审查", &["scjg"], &[COMPLETE, ("licence_valid", "营业执照有效")]),
            step(
                "现场核查",
                &["scjg"],
                &[("layout_ok", "场所布局、设施设备符合要求"), ("rules_ok", "食品安全管理制度健全")],
            ),
        ],
        result("food_business_licence", "食品经营许可证", "Food business licence", Some(5)),
    );
    x.special_steps = vec![special("现场核查", 5, true)];
    v.push(x);
    let mut with_fire = food;
    with_fire.push(MaterialSpec { formats: vec!["pdf".into()], ..m("fire_plan", "消防设施平面图") });
    let mut x = item(
        "XK", "00303", "scjg", "开办餐饮店一件事（食品经营许可、消防、油烟排放并联审批）",
        "《国务院关于进一步优化政务服务提升行政效能推动“高效办成一件事”的指导意见》；《中华人民共和国食品安全法》第三十五条",
        Person, (20, 8, 1), with_fire,
        vec![
            step("受理审查", &["scjg"], &[COMPLETE, ("licence_valid", "营业执照有效")]),
            pstep("并联审批", &[("scjg", "layout_ok", "场所布局、设施设备符合食品安全要求"), ("scjg", "rules_ok", "食品安全管理制度健全"), ("xfj", "fire_ok", "消防设施和疏散通道符合要求"), ("sthj", "fumes_ok", "油烟净化设施符合排放标准")]),
        ],
        result("food_business_licence", "食品经营许可证", "Food business licence", Some(5)),
    );
    x.special_steps = vec![special("现场核查", 5, true), special("整改复查", 10, false)];
    v.push(x);
    v.push(item(
        "XK",
        "00304",
        "scjg",
        "企业变更登记（名称、住所）",
        "《中华人民共和国市场主体登记管理条例》第二十四条",
        Entity,
        (15, 1, 0),
        vec![
            lic("business_licence", "营业执照", "business_licence"),
            form("application_form", "变更登记申请书"),
            m("resolution", "股东会决议"),
        ],
        vec![step("登记审查", &["scjg"], &[COMPLETE, ("resolution_ok", "决议内容合法有效")])],
        result("business_licence", "营业执照", "Business licence", None),
    ));
    v.push(item(
        "XK",
        "00305",
        "scjg",
        "药品零售企业经营许可",
        "《中华人民共和国药品管理法》第五十一条至第五十二条",
        Entity,
        (30, 15, 1),
        vec![
            lic("business_licence", "营业执照", "business_licence"),
            form("application_form", "药品经营许可证申请表"),
            m("pharmacist", "执业药师注册证"),
        ],
        vec![step(
            "审查",
            &["scjg"],
            &[COMPLETE, ("pharmacist_ok", "配备执业药师"), ("premises_ok", "营业场所和设施符合GSP")],
        )],
        result("drug_retail_licence", "药品经营许可证", "Drug retail licence", Some(5)),
    ));
    v.push(item(
        "XK",
        "00306",
        "scjg",
        "特种设备使用登记",
        "《中华人民共和国特种设备安全法》第三十三条",
        Entity,
        (15, 5, 0),
        vec![
            lic("business_licence", "营业执照", "business_licence"),
            m("inspection_report", "监督检验证书"),
            form("application_form", "使用登记表"),
        ],
        vec![step("审查", &["scjg"], &[COMPLETE, ("inspected", "设备经监督检验合格")])],
        result("special_equipment_registration", "特种设备使用登记证", "Special equipment registration", None),
    ));

    // 卫生健康局
    v.push(item(
        "QR",
        "00401",
        "wjj",
        "出生医学证明首次签发",
        "《中华人民共和国母婴保健法》第二十三条",
        Person,
        (10, 1, 1),
        vec![id_card(), m("birth_record", "分娩记录"), form("application_form", "出生医学证明首次签发登记表")],
        vec![step("核对签发", &["wjj"], &[TRUE_ID, ("birth_record_ok", "分娩记录与申请信息一致")])],
        result("birth_medical", "出生医学证明", "Medical birth certificate", None),
    ));
    v.push(item(
        "XK",
        "00402",
        "wjj",
        "医师执业注册",
        "《中华人民共和国医师法》第十三条至第十五条",
        Person,
        (20, 10, 1),
        vec![
            id_card(),
            m("qualification", "医师资格证书"),
            m("health_proof", "健康证明"),
            form("application_form", "医师执业注册申请审核表"),
        ],
        vec![step("审核", &["wjj"], &[TRUE_ID, ("qualified", "取得医师资格"), ("institution", "拟执业机构同意聘用")])],
        result("physician_licence", "医师执业证书", "Physician practice licence", None),
    ));
    v.push(item(
        "XK",
        "00403",
        "wjj",
        "公共场所卫生许可",
        "《公共场所卫生管理条例》第八条",
        Entity,
        (20, 10, 1),
        vec![
            lic("business_licence", "营业执照", "business_licence"),
            m("hygiene_report", "卫生检测报告"),
            form("application_form", "卫生许可申请书"),
        ],
        vec![step("审查", &["wjj"], &[COMPLETE, ("hygiene_ok", "卫生检测结果合格")])],
        result("public_place_health_licence", "公共场所卫生许可证", "Public place health licence", Some(4)),
    ));
    let mut x = item(
        "JF",
        "00404",
        "wjj",
        "计划生育家庭特别扶助金申请",
        "《全国独生子女伤残死亡家庭扶助制度试点方案》",
        Person,
        (30, 15, 0),
        vec![
            id_card(),
            m("household_register", "户口簿"),
            m("only_child_proof", "独生子女证明"),
            form("application_form", "特别扶助申请表"),
        ],
        vec![step(
            "审核",
            &["wjj"],
            &[TRUE_ID, ("age_49", "女方年满49周岁"), ("only_child", "独生子女伤残或死亡属实")],
        )],
        None,
    );
    x.eligibility = Eligibility { min_age: Some(49), max_age: None, id_area_prefix: None };
    v.push(x);

    // 行政服务中心（公证窗口）
    v.push(item(
        "GG",
        "00501",
        "xzfw",
        "出生医学证明相关公证（出生公证）",
        "《中华人民共和国公证法》第十一条",
        Person,
        (15, 5, 1),
        vec![
            lic("birth_medical", "出生医学证明", "birth_medical"),
            id_card(),
            m("household_register", "户口簿"),
            form("application_form", "公证申请表"),
        ],
        vec![step(
            "公证审查",
            &["xzfw"],
            &[TRUE_ID, ("birth_medical_valid", "出生医学证明真实有效"), ("purpose_lawful", "公证用途合法")],
        )],
        result("notarisation", "公证书（出生）", "Notarial certificate (birth)", None),
    ));
    v.push(item(
        "GG",
        "00502",
        "xzfw",
        "学历学位公证",
        "《中华人民共和国公证法》第十一条",
        Person,
        (15, 5, 1),
        vec![lic("degree", "学历学位证明", "degree"), id_card(), form("application_form", "公证申请表")],
        vec![step("公证审查", &["xzfw"], &[TRUE_ID, ("degree_valid", "学历学位证明真实有效")])],
        result("notarisation", "公证书（学历学位）", "Notarial certificate (degree)", None),
    ));
    v.push(item(
        "GG",
        "00503",
        "xzfw",
        "无犯罪记录公证",
        "《中华人民共和国公证法》第十一条",
        Person,
        (15, 5, 1),
        vec![
            lic("no_criminal_record", "无犯罪记录证明", "no_criminal_record"),
            id_card(),
            form("application_form", "公证申请表"),
        ],
        vec![step("公证审查", &["xzfw"], &[TRUE_ID, ("record_valid", "无犯罪记录证明真实有效")])],
        result("notarisation", "公证书（无犯罪记录）", "Notarial certificate (no criminal record)", None),
    ));

    // 住房城乡建设和水利局
    let mut x = item(
        "XK",
        "00601",
        "zjsl",
        "建筑工程施工许可",
        "《中华人民共和国建筑法》第七条至第八条；《建筑工程施工许可管理办法》",
        Entity,
        (7, 3, 1),
        vec![
            lic("business_licence", "营业执照", "business_licence"),
            m("land_use", "用地批准手续"),
            m("planning_permit", "建设工程规划许可证"),
            m("drawings_review", "施工图审查合格书"),
            form("application_form", "施工许可申请表"),
        ],
        vec![
            step("受理审查", &["zjsl"], &[COMPLETE]),
            pstep(
                "并联审查",
                &[("zjsl", "safety_ok", "施工安全措施落实"), ("xfj", "fire_design_ok", "消防设计审查合格")],
            ),
        ],
        result("construction_permit", "建筑工程施工许可证", "Construction permit", None),
    );
    x.special_steps = vec![special("专家评审", 10, false)];
    v.push(x);
    v.push(item(
        "QR",
        "00602",
        "zjsl",
        "公共租赁住房资格申请",
        "《公共租赁住房管理办法》第七条；《佛山市公共租赁住房管理办法》",
        Person,
        (30, 20, 1),
        vec![id_card(), m("household_register", "户口簿"), form("income_statement", "家庭收入及住房情况申报表")],
        vec![pstep("并联核查", &[("zjsl", "no_housing", "本市无自有住房"), ("mzj", "income_ok", "家庭收入符合标准")])],
        result("public_rental_eligibility", "公共租赁住房资格确认书", "Public rental housing eligibility", Some(2)),
    ));

    // 交通运输局
    v.push(item(
        "XK",
        "00701",
        "jtj",
        "网络预约出租汽车驾驶员证核发",
        "《网络预约出租汽车经营服务管理暂行办法》第十四条至第十五条",
        Person,
        (20, 10, 1),
        vec![
            id_card(),
            m("driving_licence", "机动车驾驶证"),
            lic("no_criminal_record", "无犯罪记录证明", "no_criminal_record"),
            form("application_form", "驾驶员从业资格申请表"),
        ],
        vec![pstep(
            "并联审核",
            &[
                ("jtj", "driving_3_years", "取得相应准驾车型驾驶证并具有3年以上驾驶经历"),
                ("gaj", "background_ok", "无交通肇事犯罪、危险驾驶犯罪记录，无吸毒记录，无暴力犯罪记录"),
            ],
        )],
        result("ride_hailing_driver_licence", "网络预约出租汽车驾驶员证", "Ride-hailing driver licence", Some(6)),
    ));
    v.push(item(
        "XK",
        "00702",
        "jtj",
        "道路货物运输经营许可",
        "《中华人民共和国道路运输条例》第二十一条至第二十四条",
        Entity,
        (20, 10, 1),
        vec![
            lic("business_licence", "营业执照", "business_licence"),
            m("vehicles", "车辆情况说明"),
            m("drivers", "驾驶人员从业资格证"),
            form("application_form", "道路货物运输经营申请表"),
        ],
        vec![step(
            "审查",
            &["jtj"],
            &[COMPLETE, ("vehicles_ok", "车辆符合技术要求"), ("safety_rules_ok", "安全生产管理制度健全")],
        )],
        result("road_freight_permit", "道路运输经营许可证", "Road freight permit", Some(4)),
    ));

    // 城市管理和综合执法局
    v.push(item(
        "XK",
        "00801",
        "cgj",
        "城市道路占用、挖掘审批",
        "《城市道路管理条例》第二十九条至第三十一条",
        Entity,
        (20, 5, 1),
        vec![
            lic("business_licence", "营业执照", "business_licence"),
            m("site_plan", "施工方案及占道平面图"),
            form("application_form", "占用挖掘道路申请表"),
        ],
        vec![pstep("并联审批", &[("cgj", "plan_ok", "施工方案可行"), ("jtj", "traffic_ok", "交通组织方案可行")])],
        result("road_occupation_permit", "城市道路占用挖掘许可决定书", "Road occupation permit", None),
    ));
    v.push(item(
        "XK",
        "00802",
        "cgj",
        "户外广告设施设置审批",
        "《广东省城市市容和环境卫生管理规定》第十八条",
        Entity,
        (20, 10, 1),
        vec![
            lic("business_licence", "营业执照", "business_licence"),
            m("design", "设计效果图"),
            m("structure_report", "结构安全报告"),
            form("application_form", "户外广告设置申请表"),
        ],
        vec![step(
            "审查",
            &["cgj"],
            &[COMPLETE, ("plan_compliant", "符合户外广告设置规划"), ("structure_safe", "结构安全")],
        )],
        result("outdoor_ad_permit", "户外广告设置许可决定书", "Outdoor advertising permit", Some(3)),
    ));

    // 生态环境分局
    v.push(item(
        "XK",
        "00901",
        "sthj",
        "排污许可证核发",
        "《排污许可管理条例》第七条至第十一条",
        Entity,
        (30, 15, 1),
        vec![
            lic("business_licence", "营业执照", "business_licence"),
            m("eia_approval", "环境影响评价批复"),
            form("application_form", "排污许可证申请表"),
        ],
        vec![step(
            "技术审查",
            &["sthj"],
            &[COMPLETE, ("eia_ok", "依法取得环评批复"), ("facilities_ok", "污染防治设施符合要求")],
        )],
        result("pollutant_discharge_permit", "排污许可证", "Pollutant discharge permit", Some(5)),
    ));

    // 应急管理局
    let mut x = item(
        "XK",
        "01001",
        "yjj",
        "烟花爆竹零售经营许可",
        "《烟花爆竹安全管理条例》第十九条",
        Entity,
        (20, 10, 1),
        vec![
            lic("business_licence", "营业执照", "business_licence"),
            m("premises_proof", "经营场所使用证明"),
            m("safety_training", "安全培训合格证明"),
            form("application_form", "零售经营许可申请书"),
        ],
        vec![pstep(
            "并联审查",
            &[("yjj", "premises_safe", "零售场所与居住场所有效隔离"), ("xfj", "fire_ok", "消防设施符合要求")],
        )],
        result("fireworks_retail_licence", "烟花爆竹经营（零售）许可证", "Fireworks retail licence", Some(1)),
    );
    x.special_steps = vec![special("现场核查", 5, true)];
    v.push(x);

    // 消防救援大队
    let mut x = item(
        "XK",
        "01101",
        "xfj",
        "公众聚集场所投入使用、营业前消防安全检查",
        "《中华人民共和国消防法》第十五条",
        Entity,
        (10, 5, 1),
        vec![
            lic("business_licence", "营业执照", "business_licence"),
            m("fire_plan", "消防设施平面图"),
            form("commitment", "消防安全告知承诺书"),
        ],
        vec![step(
            "检查",
            &["xfj"],
            &[COMPLETE, ("exits_ok", "疏散通道、安全出口畅通"), ("facilities_ok", "消防设施完好有效")],
        )],
        result(
            "fire_safety_inspection_licence",
            "公众聚集场所投入使用、营业前消防安全检查合格证",
            "Fire safety inspection certificate",
            None,
        ),
    );
    x.special_steps = vec![special("现场检查", 3, true)];
    v.push(x);
    v
}

/// Seeds the catalogue through the admin path and an approver per department.
pub async fn seed(db: &Db, staff: &Staff, district: &str, password: &str) -> anyhow::Result<()> {
    let actor = Actor::system("demo-seed");
    for spec in items() {
        crate::services::put_item(db, &actor, spec, None).await?;
    }
    for (username, display_name, dept) in APPROVERS {
        staff
            .create(
                &actor,
                NewStaff {
                    username: username.into(),
                    display_name: display_name.into(),
                    password: password.into(),
                    department_code: Some(dept.into()),
                    roles: vec![RoleGrant { role: Role::Approver, area_code: district.into() }],
                },
                None,
            )
            .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_demo_item_is_valid_and_codes_are_unique() {
        let all = items();
        assert!(all.len() >= 30, "{}", all.len());
        let mut codes = std::collections::BTreeSet::new();
        for i in &all {
            i.validate().unwrap_or_else(|e| panic!("{}: {e}", i.name));
            assert!(codes.insert(i.code("440604")), "{}", i.name);
            for d in i.departments() {
                assert!(super::super::DEPARTMENTS.iter().any(|(c, _)| *c == d), "{d}");
            }
        }
        assert!(all.iter().any(|i| i.steps.iter().any(|s| s.departments.len() > 1)), "parallel approvals");
    }
}
