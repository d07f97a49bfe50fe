//! The words of the residents' pages in each language, in one place for translators: English,
//! Kiswahili, Chinese. A language is a column; the `words!` macro makes leaving one out a
//! compile error. `{}` marks a value filled in by the page. Staff pages are English for now.

use crate::words;

words! {
    // Every page.
    LANGUAGE = "Language" / "Lugha" / "语言";
    LOADING = "Loading…" / "Inapakia…" / "正在加载…";
    HOME = "Home" / "Mwanzo" / "首页";
    MANAGER_CONSOLE = "Manager console" / "Dashibodi ya meneja" / "管理后台";
    NOTICES = "Notices" / "Arifa" / "通知";
    SIGN_IN = "Sign in" / "Ingia" / "登录";
    SIGN_OUT = "Sign out" / "Toka" / "退出";
    NOT_ALLOWED = "Not allowed" / "Hairuhusiwi" / "无权访问";
    NOT_ALLOWED_WHY = "Your account does not give access to this page."
        / "Akaunti yako haina ruhusa ya ukurasa huu."
        / "您的账户无权访问此页面。";
    BACK_HOME = "Back to your home page" / "Rudi kwenye ukurasa wako wa mwanzo" / "返回首页";
    SOMETHING_WRONG = "Something is wrong" / "Kuna hitilafu" / "出现问题";
    NOT_FOUND = "Page not found" / "Ukurasa haupatikani" / "页面不存在";
    NOT_FOUND_WHY = "There is no page at this address."
        / "Hakuna ukurasa kwenye anwani hii."
        / "此地址没有页面。";
    NONE_YET = "—" / "—" / "—";

    // Signing in.
    EMAIL = "E-mail address" / "Barua pepe" / "电子邮箱";
    PASSWORD = "Password" / "Nenosiri" / "密码";
    NO_ACCOUNT = "No account yet? Your property manager creates it when you move in."
        / "Huna akaunti bado? Meneja wa nyumba huifungua unapohamia."
        / "还没有账户？入住时由物业经理为您开通。";
    PAY_FOR_SOMEONE = "Paying for someone? Top up by account or meter number."
        / "Unamlipia mtu? Ongeza salio kwa namba ya akaunti au ya mita."
        / "替他人缴费？按账户号或表号充值。";

    // A person's own data.
    YOUR_DATA = "Your data" / "Data zako" / "我的数据";
    YOUR_DATA_WHY = "Everything the platform holds about you: your homes, accounts, payments, readings and notices."
        / "Kila kitu mfumo unachohifadhi kukuhusu: makazi, akaunti, malipo, usomaji na arifa zako."
        / "平台保存的关于您的全部信息：住所、账户、缴费、读数和通知。";
    DOWNLOAD_YOUR_DATA = "Download as a file (JSON)" / "Pakua kama faili (JSON)" / "下载为文件（JSON）";

    // The resident's home.
    YOUR_HOME = "Your home" / "Makazi yako" / "我的住所";
    OPEN_CONSOLE = "Open the manager console" / "Fungua dashibodi ya meneja" / "打开管理后台";
    NO_UNIT = "No unit is linked to your account yet."
        / "Bado hakuna nyumba iliyounganishwa na akaunti yako."
        / "您的账户尚未关联任何房间。";
    YOUR_CREDIT = "Your credit" / "Salio lako" / "我的余额";
    BANNER_CUT = "is cut off. Top up to restore it."
        / "imekatwa. Ongeza salio ili irudi."
        / "已停供。充值即可恢复。";
    BANNER_ARMED = "has credit again: confirm at the meter to reopen it."
        / "ina salio tena: thibitisha kwenye mita ili kuifungua."
        / "已有余额：请在表上确认以恢复供应。";
    BANNER_LOW = "is running low on credit." / "ina salio la chini." / "余额不足。";
    BANNER_EMERGENCY = "is on emergency credit. Top up to repay it."
        / "inatumia mkopo wa dharura. Ongeza salio kuulipa."
        / "正在使用应急额度。请充值偿还。";

    // An account.
    TOP_UP = "Top up" / "Ongeza salio" / "充值";
    ACCOUNT_NUMBER = "Account {}" / "Akaunti {}" / "账户 {}";
    DAYS_LEFT = "Days left" / "Siku zilizobaki" / "剩余天数";
    LAST_READING = "Last reading" / "Usomaji wa mwisho" / "最近读数";
    ALLOWANCE = "Allowance" / "Posho" / "免费额度";
    EMERGENCY_OWED = "Emergency credit owed" / "Deni la mkopo wa dharura" / "应急额度欠款";
    RESIDENT = "Resident" / "Mkazi" / "住户";
    HELD_CLOSED = " · held closed: {}" / " · imefungwa: {}" / " · 保持关闭：{}";
    TAKE_EMERGENCY = "Take {} {} emergency credit"
        / "Chukua mkopo wa dharura wa {} {}"
        / "使用 {} {} 应急额度";
    ARMED_CHECK = "Credit is back. At the meter, check every gas appliance is off, then:"
        / "Salio limerudi. Kwenye mita, hakikisha kila kifaa cha gesi kimezimwa, kisha:"
        / "余额已恢复。请在表旁确认所有燃气器具均已关闭，然后：";
    ARMED_REOPEN = "I am at the meter: reopen the gas"
        / "Niko kwenye mita: fungua gesi"
        / "我在表旁：恢复供气";
    OUTBOXES = "Notices and meter commands" / "Arifa na amri za mita" / "通知与表计指令";
    TRANSACTIONS = "Transactions" / "Miamala" / "交易记录";
    NO_TRANSACTIONS = "No transactions yet." / "Bado hakuna miamala." / "暂无交易。";
    SHOW = "Show" / "Onyesha" / "显示";
    FROM = "From" / "Kuanzia" / "从";
    TO = "To" / "Hadi" / "至";
    ONE_TRANSACTION = "1 transaction." / "Muamala 1." / "1 笔交易。";
    N_TRANSACTIONS = "{} transactions." / "Miamala {}." / "{} 笔交易。";
    DOWNLOAD_CSV = "Download as CSV" / "Pakua kama CSV" / "下载 CSV";
    DATE = "Date" / "Tarehe" / "日期";
    WHAT = "What" / "Nini" / "项目";
    AMOUNT_IN = "Amount ({})" / "Kiasi ({})" / "金额（{}）";
    RECEIPT = "Receipt" / "Risiti" / "收据";

    // The monthly statement.
    MONTHLY_STATEMENT = "Monthly statement" / "Taarifa ya mwezi" / "月度账单";
    STATEMENT_FOR = "Statement for {}" / "Taarifa ya {}" / "{}账单";
    STATEMENT_SO_FAR = "The month is not over: figures to {}."
        / "Mwezi haujaisha: takwimu hadi {}."
        / "本月尚未结束：数据截至 {}。";
    ACCOUNT = "Account" / "Akaunti" / "账户";
    PAYS_FOR = "Pays for" / "Inalipia" / "缴费项目";
    DRAWN_ON = "Drawn up" / "Imeandaliwa" / "出具时间";
    MONTH = "Month" / "Mwezi" / "月份";
    PREVIOUS_MONTH = "← Previous month" / "← Mwezi uliopita" / "← 上个月";
    NEXT_MONTH = "Next month →" / "Mwezi ujao →" / "下个月 →";
    PRINT = "Print" / "Chapisha" / "打印";
    OPENING_BALANCE = "Balance on {}" / "Salio tarehe {}" / "{} 余额";
    CLOSING_BALANCE = "Balance at the end" / "Salio mwishoni" / "期末余额";
    USAGE_CHARGES = "Usage and standing charges" / "Matumizi na ada za kudumu" / "用量及固定费用";
    USE_BY_METER = "Use by meter" / "Matumizi kwa kila mita" / "各表用量";
    METER = "Meter" / "Mita" / "表计";
    USED = "Used" / "Kilichotumika" / "用量";
    COST_IN = "Cost ({})" / "Gharama ({})" / "费用（{}）";
    BALANCE_IN = "Balance ({})" / "Salio ({})" / "余额（{}）";
    NO_USE_THIS_MONTH = "No meter reading was charged this month."
        / "Hakuna usomaji wa mita uliotozwa mwezi huu."
        / "本月没有计费的读数。";
    NO_MOVEMENT = "Nothing moved on this account this month."
        / "Hakuna muamala kwenye akaunti hii mwezi huu."
        / "本月该账户没有交易。";
    METER_COSTS_WHY = "Each meter's cost is summed from its readings and rounded once; the transactions are what was charged."
        / "Gharama ya kila mita ni jumla ya usomaji wake, ikizungushwa mara moja; miamala ndiyo iliyotozwa."
        / "各表费用由其读数汇总并只舍入一次；交易记录为实际扣费。";

    // Usage graphs.
    USAGE = "Usage" / "Matumizi" / "用量";
    PERIOD = "Period" / "Kipindi" / "时段";
    MEASURE = "Measure" / "Kipimo" / "度量";
    QUANTITY = "Quantity" / "Kiasi" / "用量";
    COST = "Cost" / "Gharama" / "费用";
    EARLIER = "Earlier" / "Awali" / "上一段";
    LATER = "Later" / "Baadaye" / "下一段";
    AS_TABLE = "Show as a table" / "Onyesha kama jedwali" / "以表格显示";
    NO_USE = "No use recorded in this period." / "Hakuna matumizi katika kipindi hiki." / "此时段无用量记录。";

    // Faults.
    REPORT_FAULT = "Report a fault" / "Ripoti hitilafu" / "报修";
    WHAT_IS_WRONG = "What is wrong?" / "Nini kina shida?" / "出了什么问题？";
    IN_YOUR_WORDS = "In your words" / "Kwa maneno yako" / "问题描述";
    GAS_FIRST = "A smell of gas? Leave, then call the emergency number first."
        / "Unasikia harufu ya gesi? Ondoka, kisha piga namba ya dharura kwanza."
        / "闻到燃气味？请先离开，再拨打紧急电话。";
    SEND_TO_MANAGERS = "Send to the site's managers" / "Tuma kwa mameneja" / "发送给物业经理";
    FAULT_SENT = "Sent: report #{}. The site's managers have it."
        / "Imetumwa: ripoti #{}. Mameneja wameipokea."
        / "已发送：报修单 #{}。物业经理已收到。";
    YOUR_FAULTS = "Your fault reports" / "Ripoti zako za hitilafu" / "我的报修";
    FAULT_OPEN = "Open" / "Wazi" / "处理中";
    FAULT_CLOSED = "Closed {}: {}" / "Imefungwa {}: {}" / "已关闭 {}：{}";

    // Keypad meters' tokens.
    LAST_TOKEN = "Last token" / "Tokeni ya mwisho" / "最近的充值码";
    YOUR_TOKENS = "Your meter tokens" / "Tokeni za mita yako" / "电表充值码";
    TOKEN_HOW = "Type the token on your meter's keypad. Each works once, on this meter only."
        / "Andika tokeni kwenye vitufe vya mita yako. Kila moja hufanya kazi mara moja, kwenye mita hii tu."
        / "请在电表键盘上输入充值码。每个码仅可在本表使用一次。";
    TOKEN_FOR = "Token for {}" / "Tokeni ya {}" / "{}的充值码";
    TOKEN_PREPARING = "Your token is being prepared…" / "Tokeni yako inaandaliwa…" / "正在生成充值码…";
    TOKEN_FAILED = "The token could not be made yet; the site's managers have been told."
        / "Tokeni haikuweza kutengenezwa bado; mameneja wamearifiwa."
        / "充值码暂未生成，已通知物业经理。";
    SEND_AGAIN = "Send again" / "Tuma tena" / "重新发送";
    TOKEN_SENT = "Sent to your devices again." / "Imetumwa tena kwenye vifaa vyako." / "已重新发送到您的设备。";

    // Notices page.
    RECENT_NOTICES = "Recent notices" / "Arifa za hivi karibuni" / "最近通知";
    NO_NOTICES = "No notices yet." / "Bado hakuna arifa." / "暂无通知。";
    SINCE = "{}, since {}" / "{}, tangu {}" / "{}，自 {} 起";
    LAST_NOTICE = ", last notice {}" / ", arifa ya mwisho {}" / "，最近通知 {}";

    // Meters and payments.
    METER_SUPPLY = "Supply:" / "Huduma:" / "供应：";
    PAID_AT = "Paid {}" / "Imelipwa {}" / "支付于 {}";
    STARTED_AT = "Started {}" / "Ilianzishwa {}" / "发起于 {}";
}

words! {
    // Notices page.
    THIS_DEVICE = "This device" / "Kifaa hiki" / "本设备";
    DEVICES = "Devices that get push notices" / "Vifaa vinavyopokea arifa" / "接收推送通知的设备";
    A_BROWSER = "A browser" / "Kivinjari" / "浏览器";
    REMOVE = "Remove" / "Ondoa" / "移除";
    WHAT_TO_HEAR = "What to hear of" / "Unachotaka kuarifiwa" / "通知内容";
    SEND_ME = "Send me notices of" / "Nitumie arifa za" / "向我发送以下通知";
    SAFETY_ALWAYS = "Safety alarms (gas leak, overload, water running) always reach you, even in quiet hours."
        / "Kengele za usalama (uvujaji wa gesi, mzigo mkubwa, maji yanayotiririka) hukufikia kila wakati, hata wakati wa utulivu."
        / "安全警报（燃气泄漏、过载、漏水）始终会发送给您，免打扰时段也不例外。";
    QUIET_HOURS = "Quiet hours ({})" / "Saa za utulivu ({})" / "免打扰时段（{}）";
    QUIET_WAIT = "Notices wait until the quiet hours end. Leave both empty for none."
        / "Arifa husubiri hadi saa za utulivu ziishe. Acha zote wazi kama hutaki."
        / "通知将在免打扰时段结束后发送。两项均留空表示不设置。";
    QUIET_FROM = "From " / "Kuanzia " / "从 ";
    QUIET_TO = "to " / "hadi " / "至 ";
    LANGUAGE_OF_NOTICES = "Language " / "Lugha " / "语言 ";
    SITES_LANGUAGE = "The site's ({})" / "Ya eneo ({})" / "站点默认（{}）";
    SAVE = "Save" / "Hifadhi" / "保存";
    SAVED = "Saved." / "Imehifadhiwa." / "已保存。";
}

words! {
    // The planner.
    PLAN_AHEAD = "Plan ahead" / "Panga mapema" / "提前规划";
    WHAT_WILL_COST = "What will this much cost ({})?" / "Kiasi hiki kitagharimu nini ({})?" / "这些用量要花多少钱（{}）？";
    HOURS = "Hours" / "Saa" / "时段";
    WOULD_COST = "{} {} would cost {}." / "{} {} vitagharimu {}." / "{} {} 需花费 {}。";
    HOW_LONG = "How long will a top-up last ({})?" / "Salio la kuongeza litadumu muda gani ({})?" / "充值能用多久（{}）？";
    BALANCE_LASTS = "At that rate your balance lasts about {} days."
        / "Kwa kiwango hicho salio lako litadumu takriban siku {}."
        / "按此用量，您的余额约可用 {} 天。";
    WAYS_TO_SAVE = "Ways to save" / "Njia za kuokoa" / "节约建议";
    ADVICE_LATER = "Advice appears after a week of readings ({} days so far)."
        / "Ushauri utaonekana baada ya wiki ya usomaji (siku {} hadi sasa)."
        / "有一周读数后将显示建议（目前 {} 天）。";
    NOTHING_STANDS_OUT = "Nothing stands out in your last weeks: your use looks steady."
        / "Hakuna jambo la kipekee katika wiki zako za karibuni: matumizi yako ni thabiti."
        / "最近几周没有异常：您的用量很平稳。";
    BUYS_ABOUT = "{} buys about {} {} at today's prices"
        / "{} inanunua takriban {} {} kwa bei za leo"
        / "按今日价格，{} 约可购买 {} {}";
    MORE_THAN_ANY = "{} is more than this tariff charges for any use"
        / "{} ni zaidi ya gharama ya matumizi yoyote kwa ushuru huu"
        / "{} 超过该费率下任何用量的费用";
    LASTS_AVERAGE = "{}. At your average of {} {} a day, with the daily charge, it lasts about {} days."
        / "{}. Kwa wastani wako wa {} {} kwa siku, pamoja na ada ya kila siku, litadumu takriban siku {}."
        / "{}。按您日均 {} {} 的用量（含每日固定费），约可用 {} 天。";
    SENTENCE = "{}." / "{}." / "{}。";
    POSITIVE_NUMBER = "Write a positive number, like 12.5."
        / "Andika namba chanya, kama 12.5."
        / "请输入正数，例如 12.5。";
    BAND_PEAK = "Peak hours" / "Saa za kilele" / "高峰时段";
    BAND_SHOULDER = "Shoulder hours" / "Saa za kati" / "平段时段";
    BAND_FLAT = "Normal hours" / "Saa za kawaida" / "普通时段";
    BAND_VALLEY = "Night (off-peak)" / "Usiku (nje ya kilele)" / "夜间（低谷）";
}

words! {
    // Usage graphs, continued.
    BEFORE = "← Before" / "← Kabla" / "← 上一段";
    AFTER = "After →" / "Baadaye →" / "下一段 →";
    SHOW_IN = "Show" / "Onyesha" / "显示";
    KEY_THIS = " this period " / " kipindi hiki " / " 本期 ";
    KEY_BEFORE = " the one before " / " kipindi kilichopita " / " 上期 ";
    KEY_MEDIAN = " the building's median household, per bar"
        / " kaya ya kati ya jengo, kwa kila nguzo"
        / " 本楼住户中位数（每柱）";
    THIS_PERIOD = "This period" / "Kipindi hiki" / "本期";
    THE_ONE_BEFORE = "The one before" / "Kilichopita" / "上期";
    IN_TOTAL = "{}: {} in total" / "{}: {} kwa jumla" / "{}：共 {}";
    SINCE_DAY = " (since {})" / " (tangu {})" / "（自 {} 起）";
    FULL_STOP = "." / "." / "。";
    ABOUT_SAME = " About the same as the period before."
        / " Karibu sawa na kipindi kilichopita."
        / "与上期大致相同。";
    MORE_THAN_BEFORE = " {}% more than the period before."
        / " {}% zaidi ya kipindi kilichopita."
        / "比上期多 {}%。";
    LESS_THAN_BEFORE = " {}% less than the period before."
        / " {}% chini ya kipindi kilichopita."
        / "比上期少 {}%。";
    MEDIAN_HOUSEHOLD = " The building's median household: {} ({} households)."
        / " Kaya ya kati ya jengo: {} (kaya {})."
        / "本楼住户中位数：{}（{} 户）。";
    TOO_FEW = " Too few households in the building to compare with."
        / " Kaya ni chache mno katika jengo kulinganisha."
        / "本楼住户太少，无法比较。";
}

words! {
    // Topping up.
    BETWEEN = "Between {} and {} {}." / "Kati ya {} na {} {}." / "{} 至 {} {}。";
    AT_LEAST = "At least {} {}." / "Angalau {} {}." / "至少 {} {}。";
    NO_ONLINE_PAYMENTS = "This site takes no online payments yet: pay at the desk."
        / "Eneo hili bado halipokei malipo ya mtandaoni: lipa ofisini."
        / "本站点暂不支持在线支付：请到服务台缴费。";
    AMOUNT = "Amount" / "Kiasi" / "金额";
    PAY_WITH = "Pay with" / "Lipa kwa" / "支付方式";
    MPESA_PHONE = "M-Pesa phone number" / "Namba ya simu ya M-Pesa" / "M-Pesa 手机号";
    PAY = "Pay" / "Lipa" / "支付";
    PAYMENTS = "Payments" / "Malipo" / "付款记录";
    NO_PAYMENTS = "No payments yet." / "Bado hakuna malipo." / "暂无付款。";

    // A payment.
    PAYMENT = "Payment" / "Malipo" / "付款";
    CHECK_PHONE = "Check your phone: enter your M-Pesa PIN to pay. This page updates by itself."
        / "Angalia simu yako: weka PIN ya M-Pesa kulipa. Ukurasa huu hujisasisha wenyewe."
        / "请查看手机：输入 M-Pesa 密码完成支付。本页面会自动更新。";
    WAITING_PROVIDER = "Waiting for the payment provider. This page updates by itself."
        / "Tunasubiri mtoa huduma wa malipo. Ukurasa huu hujisasisha wenyewe."
        / "正在等待支付服务商。本页面会自动更新。";
    THANK_YOU = "Thank you: the money is on the account."
        / "Asante: pesa imeingia kwenye akaunti."
        / "谢谢：款项已到账。";
    THANK_YOU_TOKEN = "Thank you: your meter's token is below."
        / "Asante: tokeni ya mita yako iko hapa chini."
        / "谢谢：您的电表充值码如下。";
    DID_NOT_GO_THROUGH = "The payment did not go through. Nothing was taken."
        / "Malipo hayakufanikiwa. Hakuna kilichokatwa."
        / "支付未成功，未扣款。";
    NEEDS_A_LOOK = "The provider's answer needs a look from the site's staff."
        / "Jibu la mtoa huduma linahitaji kuangaliwa na wafanyakazi."
        / "服务商的回复需由站点工作人员核查。";
    WENT_BACK = "This payment went back." / "Malipo haya yamerudishwa." / "此笔付款已退回。";
    PAID_TO = "To" / "Kwa" / "收款方";
    PAYEE_ACCOUNT = "{} · account {}" / "{} · akaunti {}" / "{} · 账户 {}";
    THROUGH = "Through" / "Kupitia" / "渠道";
    REASON = "Reason" / "Sababu" / "原因";
    CONTINUE_TO_PAY = "Continue to the payment page" / "Endelea kwenye ukurasa wa malipo" / "前往支付页面";
    ACCOUNT_NOW = "Your account now" / "Akaunti yako sasa" / "您的账户现状";
    SEE_ACCOUNT = "See the account" / "Tazama akaunti" / "查看账户";
    STATUS_PENDING = "Waiting for the payment" / "Inasubiri malipo" / "等待付款";
    STATUS_PAID = "Paid" / "Imelipwa" / "已支付";
    STATUS_FAILED = "Not paid" / "Haijalipwa" / "未支付";
    STATUS_CONFLICT = "Being checked by the site" / "Inakaguliwa na eneo" / "站点核查中";
    STATUS_REFUNDED = "Refunded" / "Imerejeshwa" / "已退款";
    STATUS_CHARGED_BACK = "Charged back" / "Imerudishwa na benki" / "已拒付";
}

words! {
    WHEN = "When" / "Lini" / "时间";
    HOW = "How" / "Vipi" / "方式";
    STATUS = "Status" / "Hali" / "状态";
}

words! {
    // Push on this device.
    PUSH_ON_SAID = "Notices are on for this device." / "Arifa zimewashwa kwenye kifaa hiki." / "本设备已开启通知。";
    PUSH_OFF_SAID = "Notices are off for this device." / "Arifa zimezimwa kwenye kifaa hiki." / "本设备已关闭通知。";
    CHECKING_BROWSER = "Checking what this browser can do…" / "Inakagua uwezo wa kivinjari hiki…" / "正在检查此浏览器的功能…";
    NO_PUSH = "This browser cannot receive push notices. Install the app from a current browser, or read your notices below."
        / "Kivinjari hiki hakiwezi kupokea arifa. Sakinisha programu kutoka kivinjari cha kisasa, au soma arifa zako hapa chini."
        / "此浏览器无法接收推送通知。请用新版浏览器安装应用，或在下方查看通知。";
    PUSH_IS_ON = "Push notices are on for this device." / "Arifa za papo hapo zimewashwa kwenye kifaa hiki." / "本设备的推送通知已开启。";
    TURN_OFF = "Turn off on this device" / "Zima kwenye kifaa hiki" / "在本设备关闭";
    PUSH_OFFER = "Get warned here before your credit runs out, when supply is cut or back, of payments and of alarms."
        / "Pata tahadhari hapa kabla salio halijaisha, huduma inapokatwa au kurudi, kuhusu malipo na kengele."
        / "在余额用完之前、停供或恢复供应时，以及收到付款和警报时，在此接收提醒。";
    TURN_ON = "Turn on notices on this device" / "Washa arifa kwenye kifaa hiki" / "在本设备开启通知";
}

words! {
    // A meter.
    METER_TITLE = "{} meter {}" / "Mita ya {} {}" / "{}表 {}";
    SUPPLY = "Supply: " / "Huduma: " / "供应：";
    METER_REPORTS = " (meter reports {})" / " (mita inaripoti {})" / "（表计报告：{}）";
    NOT_REPORTED = " (the meter has not reported it yet)" / " (mita bado haijaripoti)" / "（表计尚未报告）";
    RELAY_OPEN = "open" / "wazi" / "开启";
    RELAY_CLOSED = "closed" / "imefungwa" / "关闭";
    RELAY_RESTRICTED = "restricted flow" / "mtiririko umepunguzwa" / "限流";
    RELAY_ARMED = "ready: confirm at the meter" / "tayari: thibitisha kwenye mita" / "待恢复：请在表上确认";
    HOLD_GAS_LEAK = "gas leak" / "gesi inavuja" / "燃气泄漏";
    HOLD_OVERLOAD = "overload" / "umeme umezidi" / "过载";
    HOLD_TAMPER = "tamper" / "mita imechezewa" / "表计被撬动";
    HOLD_WATER_LEAK = "water leak" / "maji yanavuja" / "漏水";
    HOLD_MANAGER = "by a manager" / "na meneja" / "由管理员关闭";
    OUT_OF_SERVICE = "out of service" / "haitumiki" / "已停用";
    ONLINE = "online" / "mtandaoni" / "在线";
    OFFLINE = "offline" / "nje ya mtandao" / "离线";
    UNIT = "Unit" / "Nyumba" / "房间";
    LAST_SEEN = "Last seen" / "Ilionekana mwisho" / "最近在线";
    NEVER = "never" / "haijawahi" / "从未";
    READING_AT = "{} at {}" / "{} saa {}" / "{}（{}）";
    SIGNAL = "Signal" / "Mawimbi" / "信号";
    BATTERY = "Battery" / "Betri" / "电池";
    MAINS = "mains" / "umeme wa gridi" / "市电";
    CLOCK = "Clock" / "Saa ya mita" / "时钟";
    TRANSPORT = "Transport" / "Mawasiliano" / "通信";
    SLEEPS = ", sleeps between uplinks" / ", hulala kati ya mawasiliano" / "，上报间隔休眠";
    SWITCHES_RATES = ", switches time-of-use rates itself" / ", hubadilisha viwango vya muda yenyewe" / "，自行切换分时费率";
    MULTIPLIER = "Multiplier" / "Kizidishi" / "倍率";
    INSTALLED = "Installed" / "Ilisakinishwa" / "安装时间";
    FED_THROUGH = "Fed through" / "Inalishwa kupitia" / "上级总表";
    REPLACED_BY = "Replaced by" / "Ilibadilishwa na" / "更换为";
    REPLACES = "Replaces" / "Inachukua nafasi ya" / "替换了";
    FEEDS = "Feeds" / "Inalisha" / "下级分表";
    FEEDS_METERS = "{} meters, charged for what passes through (loss report)" / "mita {}, zinazotozwa kwa kinachopita (ripoti ya upotevu)" / "{} 个表计，按通过的用量计费（损耗报告）";
    COMMANDS = "Commands" / "Amri" / "指令";
    COMMAND = "Command" / "Amri" / "指令";
    WHY = "Why" / "Kwa nini" / "原因";
    ATTEMPTS = "Attempts" / "Majaribio" / "尝试次数";
    QUEUED = "Queued" / "Imepangwa" / "排队时间";
    RECENT_READINGS = "Recent readings" / "Masomo ya karibuni" / "最近读数记录";
    TAKEN = "Taken" / "Ilisomwa" / "读取时间";
    REGISTER = "Register" / "Kipimo" / "表底数";
    CHARGED = "Charged" / "Kilichotozwa" / "计费";
    NOTE = "Note" / "Maelezo" / "备注";
    READING_BASELINE = "first reading" / "somo la kwanza" / "首次读数";
    READING_RATED = "priced" / "imetozwa bei" / "已计价";
    READING_LATE = "late" / "imechelewa" / "迟到";
    READING_REJECTED = "rejected" / "imekataliwa" / "已拒绝";
    // An alarm on a meter, as its resident and staff see it listed.
    ALARMS = "Alarms" / "Kengele" / "告警";
    ALARM_OPEN = "open" / "haijashughulikiwa" / "未处理";
    ALARM_ACKNOWLEDGED = "acknowledged" / "imepokelewa" / "已确认";
    ALARM_RESOLVED = "resolved" / "imetatuliwa" / "已解决";
    READINGS_FILE = "Readings as a file" / "Masomo kama faili" / "读数文件";
    READINGS_FILE_HINT = "Every reading taken on the days asked, this month's when left blank: when it was taken, \
        the register, what was used, its exact price and tax, and why one was not charged."
        / "Kila somo lililochukuliwa katika siku ulizochagua, za mwezi huu usipojaza: lini lilisomwa, \
        kipimo, kilichotumika, bei yake kamili na kodi, na kwa nini somo halikutozwa."
        / "所选日期内的每条读数（留空则为本月）：读取时间、表底数、用量、精确价格与税额，以及未计费的原因。";
    READINGS_FILE_HINT_RESIDENT = "Yours start the day you moved in." / "Yako yanaanza siku ulipohamia." / "您的读数从入住之日开始。";
    FIRST_DAY = "First day" / "Siku ya kwanza" / "起始日";
    LAST_DAY = "Last day" / "Siku ya mwisho" / "结束日";
}

words! {
    // Paying for someone.
    PAY_FOR_ACCOUNT = "Pay for an account" / "Lipia akaunti" / "为账户缴费";
    PAY_FOR_ACCOUNT_WHY = "Top up anyone's water, electricity or gas: enter the account number from a receipt or the meter's serial number."
        / "Ongeza salio la maji, umeme au gesi la mtu yeyote: weka namba ya akaunti kutoka kwenye risiti au namba ya mita."
        / "为任何人的水、电或燃气充值：输入收据上的账户号或表号。";
    ACCOUNT_OR_METER = "Account or meter number" / "Namba ya akaunti au ya mita" / "账户号或表号";
    FIND = "Find" / "Tafuta" / "查找";
    YOUR_EMAIL_RECEIPT = "Your e-mail (for the receipt; card payments need it)"
        / "Barua pepe yako (kwa risiti; malipo ya kadi yanaihitaji)"
        / "您的邮箱（用于收据；银行卡支付必填）";
}

words! {
    // Passwords.
    CHOOSE_PASSWORD = "Choose a password" / "Chagua nenosiri" / "设置密码";
    INITIAL_PASSWORD = "You signed in with an initial password. Choose your own to go on."
        / "Umeingia kwa nenosiri la awali. Chagua lako ili uendelee."
        / "您使用初始密码登录。请设置自己的密码以继续。";
    CURRENT_PASSWORD = "Current password" / "Nenosiri la sasa" / "当前密码";
    NEW_PASSWORD = "New password (at least {} characters)"
        / "Nenosiri jipya (angalau herufi {})"
        / "新密码（至少 {} 个字符）";
    NEW_PASSWORD_AGAIN = "New password again" / "Nenosiri jipya tena" / "再次输入新密码";
    SAVE_PASSWORD = "Save password" / "Hifadhi nenosiri" / "保存密码";
}

words! {
    // Getting in without the password, and reaching people outside the app.
    FORGOT_PASSWORD = "Forgot your password?" / "Umesahau nenosiri?" / "忘记密码？";
    SIGN_IN_WITH_PHONE = "Sign in with your phone" / "Ingia kwa simu yako" / "用手机登录";
    RESET_DONE = "Your new password is saved: sign in with it."
        / "Nenosiri lako jipya limehifadhiwa: ingia nalo."
        / "新密码已保存，请用新密码登录。";
    RESET_ASK = "Give the e-mail address or mobile number of your account. We send a link to the address, or a code to the phone."
        / "Weka barua pepe au namba ya simu ya akaunti yako. Tutatuma kiungo kwa barua pepe, au nambari kwa simu."
        / "请输入账户的邮箱或手机号。我们会向邮箱发送链接，或向手机发送验证码。";
    EMAIL_OR_PHONE = "E-mail address or mobile number (+254…)"
        / "Barua pepe au namba ya simu (+254…)"
        / "邮箱或手机号（+86…）";
    SEND = "Send" / "Tuma" / "发送";
    RESET_SENT = "If an account has this address, a link is on its way. It works once, for an hour."
        / "Kama akaunti ina anwani hii, kiungo kinakuja. Kinatumika mara moja, kwa saa moja."
        / "如果有账户使用此邮箱，链接已发出。链接仅可使用一次，一小时内有效。";
    CODE_SENT = "If an account has {}, a code is on its way by SMS. It works once, for 10 minutes."
        / "Kama akaunti ina {}, nambari inakuja kwa SMS. Inatumika mara moja, kwa dakika 10."
        / "如果有账户使用{}，验证码已通过短信发出，仅可使用一次，10分钟内有效。";
    CODE = "Code from the SMS" / "Nambari kutoka kwenye SMS" / "短信验证码";
    LINK_FOR = "Choose a new password for {}." / "Chagua nenosiri jipya la {}." / "为{}设置新密码。";
    LINK_DEAD = "This link has expired or was used already." / "Kiungo hiki kimeisha muda au kimeshatumika." / "此链接已过期或已被使用。";
    ASK_AGAIN = "Ask for a new one" / "Omba kingine" / "重新申请";
    MOBILE_NUMBER = "Mobile number (+254…)" / "Namba ya simu (+254…)" / "手机号（+86…）";
    SEND_CODE = "Send me a code" / "Nitumie nambari" / "发送验证码";
    PHONE_SIGN_IN_WHY = "Residents whose phone number is on their account can sign in with a code sent by SMS."
        / "Wakazi ambao namba ya simu iko kwenye akaunti yao wanaweza kuingia kwa nambari inayotumwa kwa SMS."
        / "账户已绑定手机号的住户可以用短信验证码登录。";
    OTHER_NUMBER = "Use another number" / "Tumia namba nyingine" / "使用其他号码";
    ALSO_BY = "Besides push notices, also send them" / "Mbali na arifa za programu, zitume pia" / "除推送外，还通过以下方式发送";
    BY_SMS = "by SMS to {}" / "kwa SMS kwenda {}" / "短信至{}";
    BY_EMAIL = "by e-mail to {}" / "kwa barua pepe kwenda {}" / "邮件至{}";
    NO_DEVICE_FALLBACK = "With no device set up for push, notices come by SMS (or else e-mail) anyway."
        / "Bila kifaa cha arifa za programu, arifa zitakuja kwa SMS (au barua pepe) hata hivyo."
        / "如未开启推送，通知将改用短信（或邮件）发送。";
    CHANNEL_OFF = "(not offered at your site)" / "(haitolewi kwenye eneo lako)" / "（您所在小区未开通）";
    YOUR_PHONE = "Your mobile number" / "Namba yako ya simu" / "我的手机号";
    PHONE_WHY = "For notices by SMS and signing in with a code. We send a code to confirm it."
        / "Kwa arifa za SMS na kuingia kwa nambari. Tutatuma nambari kuithibitisha."
        / "用于短信通知和验证码登录。我们会发送验证码确认。";
    PHONE_IS = "Your number: {}" / "Namba yako: {}" / "您的号码：{}";
    REMOVE_NUMBER = "Remove this number" / "Ondoa namba hii" / "删除此号码";
    CONFIRM_CODE_FOR = "Type the code we sent to {}." / "Andika nambari tuliyotuma kwa {}." / "请输入发送至{}的验证码。";
    CONFIRM = "Confirm" / "Thibitisha" / "确认";
}
