"""The academy's year as data: organisations, programmes, courses and their audiences,
next year's drafts, venues and time slots, and the odds behind attendance and feedback."""

from __future__ import annotations

from dataclasses import dataclass

from courses.models import (
    AttendanceStatus,
    CourseLevel,
    CourseMode,
    OrganisationKind,
    QualificationLevel,
)

_NONE, _ASSISTANT = QualificationLevel.NONE, QualificationLevel.ASSISTANT
_SOCIAL_WORKER, _SENIOR = QualificationLevel.SOCIAL_WORKER, QualificationLevel.SENIOR

ORGANISATIONS: list[tuple[str, OrganisationKind, int]] = [
    # (name, kind, weight of learners drawn from it)
    ("桂城街道社会工作服务中心", OrganisationKind.ORGANISATION, 14),
    ("佛山市南海区善和社会工作服务中心", OrganisationKind.ORGANISATION, 12),
    ("佛山市南海区同心社会工作服务中心", OrganisationKind.ORGANISATION, 11),
    ("佛山市南海区映月社会工作服务中心", OrganisationKind.ORGANISATION, 9),
    ("佛山市南海区千灯湖公益服务中心", OrganisationKind.ORGANISATION, 7),
    ("桂城街道关爱桂城志愿者协会", OrganisationKind.ORGANISATION, 8),
    ("桂城街道桂园社区居委会", OrganisationKind.COMMUNITY, 5),
    ("桂城街道灯湖社区居委会", OrganisationKind.COMMUNITY, 5),
    ("桂城街道东约社区居委会", OrganisationKind.COMMUNITY, 4),
    ("桂城街道夏北社区居委会", OrganisationKind.COMMUNITY, 5),
    ("桂城街道平西社区居委会", OrganisationKind.COMMUNITY, 4),
    ("桂城街道三山社区居委会", OrganisationKind.COMMUNITY, 3),
    ("桂城街道宝石社区居委会", OrganisationKind.COMMUNITY, 4),
    ("桂城街道社会事务办公室", OrganisationKind.GOVERNMENT, 3),
    ("桂城街道社区治理办公室", OrganisationKind.GOVERNMENT, 2),
]


@dataclass(frozen=True)
class ProgrammeSpec:
    key: str
    title: str
    summary: str
    level: CourseLevel | None
    required_course_count: int | None
    required_hours: float | None
    certificate_title: str


PROGRAMMES: list[ProgrammeSpec] = [
    ProgrammeSpec("newcomer", "桂城街道社工新人培育计划",
                  "面向入职三年内的一线社工，系统学习专业价值、个案、小组与社区工作方法，"
                  "帮助新人扎根桂城社区。",
                  CourseLevel.BEGINNER, 5, 24, "桂城街道社工新人培育计划结业证书"),
    ProgrammeSpec("camp", "关爱专员创智营",
                  "以项目为纽带，陪伴关爱专员完成一个社区关爱项目从调研、设计到评估与路演的全过程。",
                  CourseLevel.INTERMEDIATE, 4, 18, "关爱专员创智营结业证书"),
    ProgrammeSpec("org", "社会组织培育",
                  "提升社会组织的规范治理、财务管理与项目申报能力，助力社会组织健康发展。",
                  None, 3, None, "社会组织培育项目结业证书"),
    ProgrammeSpec("press", "通讯员培训",
                  "培养会写、会拍、会运营的社区通讯员，讲好关爱桂城故事。",
                  None, 3, None, "通讯员培训结业证书"),
    ProgrammeSpec("care", "关爱专员培训",
                  "聚焦长者、儿童、残障人士与家庭，提升关爱专员的入户探访与专业服务能力。",
                  None, 4, None, "关爱专员培训结业证书"),
    ProgrammeSpec("exam", "社工考前培训",
                  "针对全国社会工作者职业水平考试，分初级、中级精讲教材要点并进行模拟练习。",
                  None, 2, None, "社工考前培训结业证书"),
]  # fmt: skip

# Who a course draws learners from, as weights by qualification level.
AUDIENCES: dict[str, dict[QualificationLevel, float]] = {
    "all": {},
    "newcomer": {_NONE: 3.0, _ASSISTANT: 1.5, _SOCIAL_WORKER: 0.3, _SENIOR: 0.1},
    "exam_junior": {_NONE: 4.0, _ASSISTANT: 0.3, _SOCIAL_WORKER: 0.05, _SENIOR: 0.02},
    "exam_mid": {_NONE: 0.3, _ASSISTANT: 4.0, _SOCIAL_WORKER: 0.1, _SENIOR: 0.02},
    "experienced": {_NONE: 0.4, _ASSISTANT: 1.0, _SOCIAL_WORKER: 2.5, _SENIOR: 3.0},
}

AUDIENCE_TEXT = {
    "all": "桂城街道各社工机构、社会组织及社区工作人员",
    "newcomer": "入职三年内的一线社工及社区工作者",
    "exam_junior": "报考助理社会工作师（初级）的社工及社区工作者",
    "exam_mid": "报考社会工作师（中级）的助理社会工作师",
    "experienced": "具有一定服务经验的社工、项目主管及督导",
}


@dataclass(frozen=True)
class CourseSpec:
    """One course of the academy's year. ``hours`` lists the class hours of each
    session (weekly); ``month`` and ``days`` bound the first session's date."""

    key: int
    title: str
    summary: str
    topic: str
    level: CourseLevel
    mode: CourseMode
    programme: str | None
    month: int
    days: tuple[int, int]
    hours: tuple[int, ...]
    capacity: tuple[int, int]
    audience: str = "all"
    approval: bool = False
    feedback: bool = False
    threshold: float = 0.8
    prerequisite: int | None = None
    archived: bool = False


_B, _I, _A = CourseLevel.BEGINNER, CourseLevel.INTERMEDIATE, CourseLevel.ADVANCED
_OFF, _ON, _HY = CourseMode.OFFLINE, CourseMode.ONLINE, CourseMode.HYBRID

COURSES: list[CourseSpec] = [
    # 桂城街道社工新人培育计划 (29 class hours)
    CourseSpec(1, "社会工作价值观与专业伦理",
               "理解社会工作的核心价值与伦理守则，通过桂城本土案例讨论服务中常见的伦理困境。",
               "社工基础", _B, _OFF, "newcomer", 3, (2, 14), (2, 2, 2), (60, 75),
               "newcomer", feedback=True),
    CourseSpec(2, "个案工作基础：接案与需求评估",
               "掌握接案会谈、需求评估与服务计划制定的基本流程，练习个案记录的规范写法。",
               "社工基础", _B, _OFF, "newcomer", 3, (12, 24), (2, 2, 2), (60, 75),
               "newcomer", feedback=True),
    CourseSpec(3, "小组工作入门：设计与带领",
               "学习小组工作的阶段理论与带领技巧，现场设计并演练一节社区小组活动。",
               "社工基础", _B, _OFF, "newcomer", 4, (7, 17), (3, 3), (50, 65),
               "newcomer", feedback=True),
    CourseSpec(4, "社区工作方法与社区走访",
               "认识社区工作的主要模式，走进桂城社区开展社区走访与资源地图绘制。",
               "社区治理", _B, _HY, "newcomer", 4, (20, 28), (3, 2), (50, 65), "newcomer"),
    CourseSpec(5, "社工文书写作与服务记录规范",
               "规范个案、小组、社区活动记录与服务报告的写作，减少文书返工。",
               "社工基础", _B, _OFF, "newcomer", 5, (8, 16), (3,), (60, 80), "newcomer"),
    CourseSpec(6, "沟通技巧与同理心训练",
               "通过情景演练提升倾听、提问与回应能力，学会在服务中运用同理心。",
               "社工基础", _B, _OFF, "newcomer", 5, (18, 29), (3,), (50, 70), "newcomer"),
    # 关爱专员创智营 (24 class hours)
    CourseSpec(7, "关爱服务项目设计与策划",
               "从问题树到逻辑模型，完成一份社区关爱服务项目的设计书。",
               "项目策划", _I, _OFF, "camp", 6, (1, 12), (2, 2, 2), (55, 70),
               "experienced", approval=True, feedback=True),
    CourseSpec(8, "需求调研与数据分析实务",
               "学习问卷设计、访谈与焦点小组方法，用表格工具完成调研数据的整理与分析。",
               "项目策划", _I, _HY, "camp", 7, (1, 10), (3, 3), (55, 70),
               "experienced", approval=True),
    CourseSpec(9, "社区资源链接与跨界合作",
               "梳理社区内外资源，学习与企业、学校、志愿团队建立合作的方法。",
               "项目策划", _I, _OFF, "camp", 7, (14, 28), (3,), (50, 70), "experienced"),
    CourseSpec(10, "服务成效评估与案例提炼",
               "掌握服务成效评估的指标设计与案例提炼方法，撰写有说服力的项目总结。",
               "项目策划", _A, _OFF, "camp", 8, (10, 21), (3, 2), (45, 60),
               "experienced", prerequisite=8),
    CourseSpec(11, "创新项目路演与公益创投",
               "打磨项目路演稿并现场路演，由评审导师点评，对接公益创投资源。",
               "项目策划", _A, _OFF, "camp", 9, (14, 25), (2, 2), (40, 55),
               "experienced", approval=True, feedback=True, prerequisite=7),
    # 社会组织培育 (11 class hours)
    CourseSpec(12, "社会组织规范化建设与内部治理",
               "解读社会组织章程、理事会运作与内部管理制度，提升规范化水平。",
               "社会组织", _A, _OFF, "org", 3, (16, 27), (3,), (50, 70), "experienced"),
    CourseSpec(13, "社会组织财务管理与税务实务",
               "讲解社会组织会计核算、票据管理、项目资金使用与税务申报要点。",
               "社会组织", _I, _OFF, "org", 5, (11, 22), (3,), (50, 70)),
    CourseSpec(14, "公益项目申报与品牌传播",
               "掌握政府购买服务与基金会项目的申报技巧，打造机构公益品牌。",
               "社会组织", _I, _HY, "org", 7, (7, 18), (3,), (60, 80)),
    CourseSpec(15, "社会组织等级评估辅导",
               "对照等级评估指标逐项辅导，帮助机构做好评估材料准备。",
               "社会组织", _I, _ON, "org", 10, (12, 23), (2,), (60, 80)),
    # 通讯员培训 (10 class hours)
    CourseSpec(16, "新闻写作基础：社区新闻怎么写",
               "学习新闻要素与消息写作结构，把社区活动写成好读的新闻稿。",
               "宣传写作", _B, _OFF, "press", 4, (14, 25), (3,), (55, 75)),
    CourseSpec(17, "手机摄影与短视频拍摄",
               "用手机拍出有温度的服务照片，学习短视频脚本、拍摄与剪辑。",
               "宣传写作", _B, _HY, "press", 6, (15, 26), (3,), (55, 75), feedback=True),
    CourseSpec(18, "微信公众号运营与排版",
               "公众号选题策划、图文排版与数据分析，提高推文阅读量。",
               "宣传写作", _B, _ON, "press", 8, (18, 28), (2,), (60, 80)),
    CourseSpec(19, "社工故事写作与典型案例宣传",
               "挖掘服务中的感人故事，学习案例故事化写作与典型宣传。",
               "宣传写作", _I, _OFF, "press", 12, (1, 11), (2,), (55, 75)),
    # 关爱专员培训 (18 class hours)
    CourseSpec(20, "独居长者关爱探访技巧",
               "掌握入户探访的安全守则、风险识别与沟通技巧，做好独居长者的定期关爱。",
               "关爱服务", _B, _OFF, "care", 1, (6, 16), (3,), (60, 80)),
    CourseSpec(21, "困境儿童关爱与保护",
               "认识困境儿童的类型与需求，学习儿童保护的发现、报告与转介流程。",
               "关爱服务", _I, _OFF, "care", 3, (23, 31), (3,), (55, 75)),
    CourseSpec(22, "残障人士支持服务",
               "了解残障人士的权益保障政策，学习康复支持与社会融入服务方法。",
               "关爱服务", _I, _HY, "care", 6, (2, 12), (3,), (55, 75)),
    CourseSpec(23, "心理健康服务：情绪识别与危机干预",
               "识别常见情绪问题与心理危机信号，掌握心理急救与转介的基本方法。",
               "心理健康", _I, _HY, "care", 9, (1, 9), (2, 2, 2), (60, 80), feedback=True),
    CourseSpec(24, "家庭综合服务与家庭关系调适",
               "运用家庭系统视角评估家庭需求，学习亲子与婚姻关系调适的服务技巧。",
               "关爱服务", _I, _OFF, "care", 11, (9, 20), (3,), (55, 75)),
    # 社工考前培训 (40 class hours)
    CourseSpec(25, "社会工作综合能力（初级）精讲",
               "按考试大纲精讲初级《社会工作综合能力》，梳理重点难点并讲解历年真题。",
               "考前培训", _B, _HY, "exam", 3, (23, 31), (3, 3, 3), (70, 80), "exam_junior"),
    CourseSpec(26, "社会工作实务（初级）精讲",
               "精讲初级《社会工作实务》，结合案例讲解个案、小组、社区工作的考点。",
               "考前培训", _B, _HY, "exam", 4, (20, 28), (3, 3, 3), (70, 80), "exam_junior"),
    CourseSpec(27, "社会工作法规与政策精讲",
               "系统梳理社会工作相关法规与政策，帮助考生建立知识框架。",
               "考前培训", _B, _ON, "exam", 5, (6, 15), (2, 2, 2), (70, 80), "exam_junior"),
    CourseSpec(28, "社会工作综合能力（中级）精讲",
               "精讲中级《社会工作综合能力》，突出理论模式与研究方法等高频考点。",
               "考前培训", _I, _ON, "exam", 4, (13, 24), (2, 2, 2), (70, 80), "exam_mid"),
    CourseSpec(29, "社会工作实务（中级）精讲",
               "精讲中级《社会工作实务》，以案例分析题为重点进行答题训练。",
               "考前培训", _I, _ON, "exam", 5, (6, 15), (2, 2, 2), (70, 80), "exam_mid"),
    CourseSpec(30, "考前冲刺模拟与答疑",
               "全真模拟测试与逐题讲评，考前答疑与应试心理调适。",
               "考前培训", _B, _ON, "exam", 5, (25, 31), (2, 2), (70, 80)),
    # 专题讲座 (28 class hours), without a programme
    CourseSpec(31, "城乡融合发展与社区治理专题讲座",
               "解读城乡融合发展战略，探讨社工在城中村改造与社区治理中的角色。",
               "社区治理", _I, _HY, None, 2, (23, 28), (3,), (60, 80)),
    CourseSpec(32, "政策解读：社会工作者职业水平评价与继续教育",
               "解读社会工作者职业水平评价办法与继续教育课时要求，答疑登记与注册流程。",
               "政策解读", _B, _ON, None, 1, (6, 16), (2,), (60, 80), archived=True),
    CourseSpec(33, "政策解读：南海区社会救助政策",
               "讲解最低生活保障、特困供养与临时救助政策，明确社工在救助服务中的职责。",
               "政策解读", _B, _ON, None, 3, (9, 20), (2,), (60, 80)),
    CourseSpec(34, "青少年心理危机干预",
               "聚焦青少年自伤、欺凌与学业压力等心理危机，学习评估、干预与家校协作。",
               "心理健康", _A, _OFF, None, 10, (13, 24), (3,), (40, 55),
               "experienced", approval=True, prerequisite=23),
    CourseSpec(35, "心理健康服务与社工压力管理",
               "关注社工自身的心理健康，学习压力管理、情绪调节与自我关怀的方法。",
               "心理健康", _B, _HY, None, 7, (21, 31), (2,), (60, 80)),
    CourseSpec(36, "老年人心理健康与认知症照护",
               "认识老年期常见心理问题与认知症早期表现，学习照护者支持方法。",
               "心理健康", _I, _OFF, None, 11, (2, 13), (2,), (55, 75)),
    CourseSpec(37, "乡村振兴与社会工作",
               "分享乡村振兴中的社工实践，探讨村居社工服务的切入点。",
               "社区治理", _I, _ON, None, 8, (3, 14), (2,), (60, 80)),
    CourseSpec(38, "社区应急管理与防灾减灾",
               "学习台风、内涝等突发事件中的社区应急响应与社工服务流程。",
               "社区治理", _B, _OFF, None, 6, (22, 30), (2,), (55, 75)),
    CourseSpec(39, "数字化社会工作：智慧社区平台应用",
               "演示智慧社区平台与数据工具在需求发现、服务记录中的应用。",
               "社区治理", _I, _ON, None, 9, (21, 30), (2,), (60, 80)),
    CourseSpec(40, "反家庭暴力法与妇女儿童权益保护",
               "解读反家庭暴力法与告诫书、人身安全保护令制度，学习个案介入要点。",
               "政策解读", _I, _HY, None, 12, (1, 12), (2,), (55, 75)),
    CourseSpec(41, "志愿者管理与激励机制",
               "学习志愿者招募、培训、督导与激励的全流程管理，建设稳定的志愿队伍。",
               "社区治理", _B, _OFF, None, 12, (1, 11), (3,), (55, 75), feedback=True),
    CourseSpec(42, "社区营造实务工作坊",
               "以工作坊形式共创社区营造方案，学习居民参与和社区议事的促进技巧。",
               "社区治理", _A, _OFF, None, 12, (7, 15), (3,), (30, 40),
               "experienced", approval=True, prerequisite=4),
]  # fmt: skip

# Next year's courses, still drafts: written up, not yet scheduled.
DRAFT_COURSES: list[tuple[str, str, str, CourseLevel, CourseMode, str | None]] = [
    ("社工督导能力提升", "面向一线督导，学习行政、教育与支持性督导的方法与工具。", "社工基础",
     _A, _OFF, None),
    ("社区慈善与社区基金运营", "探索社区基金的设立、募集与使用，推动社区慈善发展。", "社会组织",
     _I, _HY, "org"),
]  # fmt: skip

# The demo trainers teach these courses of the first intake; the demo learners take these.
DEMO_TRAINER_COURSES = {
    "trainer@academy.example": (1, 5, 23, 41),
    "trainer2@academy.example": (7, 16, 34),
}
DEMO_LEARNER_COURSES = {
    "learner@academy.example": (1, 5, 16, 23, 35, 41),
    "learner2@academy.example": (12, 25, 26, 33, 36, 40),
}

VENUES: list[tuple[str, str, str]] = [
    ("桂城街道社会工作服务中心", "3楼培训室", "佛山市南海区桂城街道南桂东路28号"),
    ("桂城街道社会工作服务中心", "2楼多功能厅", "佛山市南海区桂城街道南桂东路28号"),
    ("桂城街道党群服务中心", "1楼报告厅", "佛山市南海区桂城街道海八路15号"),
    ("千灯湖创投小镇", "路演厅", "佛山市南海区桂城街道灯湖东路1号"),
    ("夏北社区党群服务中心", "活动室", "佛山市南海区桂城街道夏北一路6号"),
    ("桂园社区党群服务中心", "2楼会议室", "佛山市南海区桂城街道桂园路3号"),
]

# (start, end) in Asia/Shanghai for sessions worth 2 and 3 class hours.
SLOTS: dict[int, list[tuple[tuple[int, int], tuple[int, int]]]] = {
    2: [((9, 30), (11, 30)), ((14, 30), (16, 30))],
    3: [((9, 0), (11, 30)), ((14, 30), (17, 0))],
}

COMMENTS = [
    "老师讲得很透彻，案例贴近桂城社区实际，收获很大。",
    "课程内容实用，回到岗位马上可以用上。",
    "互动环节很好，希望以后多安排小组讨论。",
    "讲师经验丰富，答疑耐心细致。",
    "时间有点紧，希望能增加一次课深入练习。",
    "线上直播很清晰，回放也方便复习。",
    "场地安排很好，签到也很方便。",
    "希望多一些本土服务案例的分享。",
    "内容系统，对备考帮助很大。",
    "第一次参加学院的培训，感觉组织得很用心。",
    "课件可以提前发放就更好了。",
    "老师的分享让我对自己的工作有了新的认识。",
    "非常实用的课程，推荐同事来学。",
    "讨论时间略短，意犹未尽。",
    "希望下次安排在周五下午，方便一线同事参加。",
    "",
    "",
    "",
]
SCORES = (5, 4, 3, 2, 1)
SCORE_WEIGHTS = (55, 33, 9, 2, 1)

STATUS_PROFILES: dict[str, tuple[float, float, float, float, float]] = {
    # present, late, partial, absent, excused
    "steady": (0.86, 0.07, 0.03, 0.02, 0.02),
    "busy": (0.60, 0.12, 0.10, 0.12, 0.06),
    "dropout": (0.15, 0.05, 0.05, 0.65, 0.10),
}
PROFILE_NAMES = ("steady", "busy", "dropout")
PROFILE_WEIGHTS = (75, 20, 5)
ATTENDANCE_STATUSES = (
    AttendanceStatus.PRESENT,
    AttendanceStatus.LATE,
    AttendanceStatus.PARTIAL,
    AttendanceStatus.ABSENT,
    AttendanceStatus.EXCUSED,
)


def course_description(spec: CourseSpec, minutes_per_hour: int) -> str:
    """The course page's text: summary, audience, schedule, mode and completion rule."""
    hours = sum(spec.hours)
    mode_text = {
        CourseMode.OFFLINE: "线下面授，请按时到场扫码签到",
        CourseMode.ONLINE: "线上直播（腾讯会议），部分课次提供录播回放",
        CourseMode.HYBRID: "线上+线下同步进行，可到场参加或在线收看",
    }[spec.mode]
    rule = f"累计课时达到课程总课时的{round(spec.threshold * 100)}%"
    if spec.feedback:
        rule += "并提交满意度评估"
    parts = [
        spec.summary,
        f"课程对象：{AUDIENCE_TEXT[spec.audience]}。",
        f"课程安排：共{len(spec.hours)}次课，合计{hours}课时（每课时{minutes_per_hour}分钟）。",
        f"授课方式：{mode_text}。",
        f"结业要求：{rule}，即可获得结业证书。",
    ]
    if spec.approval:
        parts.append("本课程报名需经审核，请在报名时填写所在机构及岗位。")
    return "\n\n".join(parts)
