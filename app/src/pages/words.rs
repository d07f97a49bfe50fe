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
