"""Vocabularies and line patterns of the clean stage: the words and shapes of web boilerplate in many
languages (navigation, share, comment and cookie prompts, copyright, dates, bylines, menus).

Casefolded where they are words; compiled once, when the clean stage is first imported.
"""
from __future__ import annotations

import re

import regex

# --- vocabularies (casefolded) ---------------------------------------------------------------------

_NAV_WORDS = frozenset("""
home news world china asia europe africa americas us uk business economy markets finance money tech
technology science health sports sport culture arts entertainment lifestyle life travel food opinion
opinions politics society education video videos photo photos pictures multimedia podcasts podcast
weather regions local national international global edition editions latest more menu search login
register subscribe contact about services features blogs specials top trending newsletters
english français francais español deutsch italiano português русский 日本語 한국어 türkçe العربية عربي
accueil actualités actualites monde économie politique société vidéos connexion rechercher régions
inicio noticias mundo economía política sociedad cultura deportes opinión buscar portada nacional
internacional regional tecnología ciencia salud contacto
startseite nachrichten politik wirtschaft welt kultur panorama meinung suche anmelden region regional
lokales kontakt
главная новости город транспорт спорт афиша политика экономика общество культура происшествия мир
россия регионы наука технологии здоровье авто недвижимость видео фото поиск войти контакты
ホーム ニュース スポーツ エンタメ トップ ライフ
الرئيسية أخبار الأخبار سياسة اقتصاد رياضة ثقافة العالم فيديو منوعات صحة تكنولوجيا اتصل بنا محليات
دولي مجتمع رأي مقالات
""".split())
_HAN_NAV_WORDS = frozenset("""
首页 新闻 国际 国内 财经 体育 娱乐 科技 军事 社会 评论 图片 视频 登录 注册 搜索 专题 滚动 要闻 时政 文化 健康
教育 旅游 汽车 房产 时尚 地方 网站地图 联系我们 关于我们 中文 双语 英文 简体 繁体 繁體 经济 政治 生活 直播 更多
频道 导航 手机版 客户端 订阅 中文版 英文版 日本語 経済 地域 国際 政治 社会 天気 動画 写真 国内 文化 科学
""".split())
_UI_LINES = regex.compile(
    r"(?i)^(?:home|menu|search|log ?in|sign ?in|sign ?up|register|skip to (?:main )?content|"
    r"toggle navigation|back to top|top of page|main menu|close menu|open menu|"
    r"首页|登录|注册|搜索|返回顶部|返回首页|accueil|connexion|retour en haut|inicio|volver arriba|"
    r"startseite|nach oben|الرئيسية|بحث|العودة إلى الأعلى|contact(?: us)?|contacto|kontakt|главная|"
    r"контакты|ホーム|お問い合わせ|联系我们|اتصل بنا)$")

_SHARE_WORDS = frozenset("""
share shares this article story page post on via by email e mail print facebook twitter x linkedin
whatsapp telegram pinterest reddit tumblr weibo wechat vk copy link tweet follow us
partager cet sur imprimer compartir comparte compártelo en este esta artículo noticia tus redes sociales
imprimir teilen teile diesen artikel drucken auf поделиться поделитесь в с этой статьей статьёй новостью
соцсетях друзьями вконтакте вк одноклассники ok 分享 分享到 微信 微博 朋友圈 qq qq空间 空间 转发 打印 シェア ツイート
line شارك مشاركة هذا المقال الخبر على فيسبوك تويتر واتساب طباعة
""".split())
_SHARE_CORE = frozenset("""
share shares tweet facebook twitter whatsapp linkedin telegram pinterest reddit weibo wechat partager
compartir comparte compártelo teilen teile поделиться поделитесь вконтакте одноклассники 分享 分享到 转发
微信 微博 朋友圈 シェア ツイート شارك مشاركة فيسبوك تويتر واتساب
""".split())
# Scripts written without spaces put a whole prompt in one word: "この記事をシェアする", "分享到微信".
_UNSPACED_SHARE = regex.compile(
    r"(?i)^(?:この(?:記事|ページ|ニュース)を)?(?:シェア|ツイート|共有|分享到?|转发到?)(?:する|しよう)?"
    r"(?:微信|微博|朋友圈|qq空间|qq|facebook|twitter|line)*[!！]?$")

_SECTION_HEADERS = frozenset(h.casefold() for h in """
Most Viewed|Most Read|Most Popular|Most Shared|Most Commented|Popular Articles|Popular Posts|Popular News|
Related Articles|Related Posts|Related News|Related Stories|Related Content|Related Coverage|Related|
Read More|Read Also|Read Next|See Also|Also Read|More Stories|More News|More From|More Articles|
More on This Story|You May Also Like|You Might Also Like|Recommended|Recommended for You|Recommended Articles|
Trending|Trending Now|Latest News|Latest Stories|Latest Articles|Top Stories|Top News|Editor's Picks|
Editors' Picks|Don't Miss|Continue Reading|Further Reading|Hot Topics|Lire aussi|À lire aussi|A lire aussi|
Les plus lus|Articles similaires|Sur le même sujet|Lire la suite|Voir aussi|Leer más|Lea también|
Lee también|Noticias relacionadas|Artículos relacionados|Lo más leído|Te puede interesar|Mehr zum Thema|
Weitere Artikel|Meistgelesen|Das könnte Sie auch interessieren|Auch interessant|Weiterlesen|相关新闻|
相关文章|相关阅读|相关报道|热门文章|热门新闻|热点推荐|推荐阅读|延伸阅读|阅读更多|阅读全文|猜你喜欢|
精彩推荐|排行榜|点击排行|اقرأ أيضا|اقرأ أيضاً|إقرأ أيضا|اقرأ المزيد|مقالات ذات صلة|أخبار ذات صلة|
الأكثر قراءة|الأكثر مشاهدة|مواضيع ذات صلة|قد يعجبك أيضا|Читайте также|Смотрите также|Похожие новости|
Новости по теме|По теме|Популярное|Самое читаемое|Другие новости|Похожие статьи|関連記事|関連ニュース|おすすめ記事|
人気記事|あわせて読みたい|こちらもおすすめ|Artículos similares|Te recomendamos
""".replace("\n", "").split("|"))
# Unicode White_Space, the characters `\s` of `regex` matches (checked by a test).
_WHITE_SPACE = ("\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009"
                "\u200a\u2028\u2029\u202f\u205f\u3000")
# What trails a section header ("Related Articles »", "Lire aussi :"); stripping it is what the pattern
# `[\s:：»>›→…+|\-–—.]+$` would remove, several times faster.
_HEADER_TRAILER = _WHITE_SPACE + ":：»>›→…+|-–—."
_INLINE_RELATED = regex.compile(
    r"(?i)^(?:read more|read also|also read|see also|related|lire aussi|à lire aussi|voir aussi|"
    r"lea también|lee también|mehr zum thema|相关阅读|延伸阅读|اقرأ أيضا|اقرأ أيضاً)\s*[:：]\s*\S.{0,150}$")

# --- line patterns ---------------------------------------------------------------------------------

_RIGHTS_RESERVED = (
    r"all rights reserved|tous droits réservés|todos los derechos reservados|alle rechte vorbehalten|"
    r"tutti i diritti riservati|todos os direitos reservados|все права защищены|جميع الحقوق محفوظة|"
    r"كل الحقوق محفوظة|版权所有|版權所有|著作権|無断転載|저작권"
)
_COPYRIGHT_START = regex.compile(
    rf"(?i)^(?:copyright\s*(?:©|\(c\))?\s*(?:\d{{4}}|{_RIGHTS_RESERVED}|by\b)|©|\(c\)\s*\d{{4}}|copr\.)")
# The standard `re` scans for this pattern twice as fast as `regex`, and it runs on most lines.
_RIGHTS_AS_SENTENCE = re.compile(
    rf"(?i)(?:^|[.。!|·•©\-–—]\s*|\d{{4}}\s*)(?:{_RIGHTS_RESERVED})\s*(?:[.。]|$|[|·•])")
_CJK_RIGHTS = regex.compile(
    r"版权所有|版權所有|未经(?:书面)?(?:许可|授权|同意).{0,12}(?:不得|禁止)|無断転載|جميع الحقوق محفوظة|كل الحقوق محفوظة")
_LICENCE = regex.compile(
    r"(?i)(?:\b(?:licen[cs]e|registration|registered|permit|ICP)\b|ICP|备案|许可证|登记证|经营许可)")
_LONG_NUMBER = regex.compile(r"\d{4,}")
_BROWSER_NOTE = regex.compile(
    r"(?i)(?:\bbrowsers?\b|\bresolution\b|best viewed).{0,80}\d{3,4}\s*[*x×]\s*\d{3,4}"
    r"|\d{3,4}\s*[*x×]\s*\d{3,4}.{0,80}(?:\bbrowsers?\b|\bresolution\b)|分辨率|浏览器")
_COOKIE_WORD = regex.compile(r"(?i)cookie|куки|クッキー|الكوكيز|ملفات تعريف الارتباط")
_COOKIES = regex.compile(
    r"(?i)\b(?:we|this (?:web)?site|our (?:web)?site|site|website) uses? cookies\b|"
    r"\bwe (?:and our (?:\w+ )?partners |and \w+ partners )?(?:use|set|store) cookies\b|\bcookies? "
    r"(?:policy|settings|preferences|consent|notice)\b|\baccept (?:all )?cookies\b|"
    r"\b(?:by (?:continuing|using)|if you continue).{0,80}\bcookies\b|nous utilisons des cookies|"
    r"ce site utilise des cookies|accepter les cookies|utilizamos cookies|"
    r"este sitio (?:web )?utiliza cookies|"
    r"aceptar (?:las |todas las )?cookies|wir verwenden cookies|diese website verwendet cookies|"
    r"cookies akzeptieren|(?:seite|website) (?:verwendet|nutzt) cookies|cookie-einstellungen|"
    r"usamos cookies|(?:sitio|página) (?:web )?(?:usa|utiliza) cookies|política de cookies|"
    r"(?:gérer|paramétrer) les cookies|utilizziamo (?:i )?cookie|"
    r"(?:мы|сайт) использу(?:ем|ет) (?:файлы )?(?:cookie|куки)|(?:cookie|куки)-файл|"
    r"соглашаетесь на использование|使用\s*cookies?|cookie\s*(?:政策|设置|ポリシー|の設定)|"
    r"(?:当|本)(?:サイト|ウェブサイト)[^。]{0,20}(?:cookie|クッキー)|クッキー(?:ポリシー|の設定)|"
    r"ملفات تعريف الارتباط|الكوكيز")
# "Was this article helpful?": alone or before a comment prompt on the same line.
_FEEDBACK_QUESTION = (
    r"(?:was this (?:article|page|story) (?:helpful|useful)|did you (?:find|like) this (?:article|story)|"
    r"¿?te ha (?:resultado útil|gustado) (?:este|esta) (?:artículo|noticia)|"
    r"cet article vous a-t-il (?:été utile|plu)|war dieser artikel hilfreich|"
    r"была ли (?:эта )?статья полезной|この記事は(?:役に立ちましたか|参考になりましたか))\s*[?？]"
)
_COMMENT_PROMPTS = (
    r"(?:(?:please\s+)?(?:enter|leave|post|write|add|submit|type)\s+(?:your|a)\s+"
    r"(?:comment|reply|name|e-?mail(?: address)?|message|response|website)s?(?:\s+here)?|"
    r"\d+\s+(?:comments?|replies)|comments?(?:\s*\(\d+\))?|"
    # "156 Responses to “Shuteye”", "3 thoughts on “...”": the count over a blog's comments.
    r"(?:\d+|one|no)\s+(?:comments?|responses?|replies|thoughts|reactions?)"
    r"(?:\s+(?:to|on)\s+[\"“'‘«].{1,150})?|"
    r"\d+\s+(?:réponses?|respuestas?|antworten|ответ(?:а|ов)?|ردود?)|"
    r"(?:view|show|load|read|hide)\s+(?:all\s+)?(?:\d+\s+)?"
    r"comments|cancel reply|leave a reply|your email address will not be published.*|"
    r"required fields are marked.*|save my name,? email,? and website.*|"
    r"you must be (?:logged|signed) in to (?:post a )?comment.*|"
    r"notify me of (?:follow-up comments|new posts).*|"
    r"(?:log|sign) in to (?:comment|reply)|be the first to comment.*|no comments yet.*|"
    r"join the (?:conversation|discussion)|(?:laisser|laissez|ajouter|écrire) un commentaire|"
    r"\d+\s+commentaires?|"
    r"votre adresse (?:e-?mail|de messagerie) ne sera pas publiée.*|"
    r"(?:deja|dejar|déjanos|dejanos|escribe|añade) (?:un|tu) comentario|оставьте комментарий|"
    r"коммента(?:рии|рий)|コメント(?:する|を書く)?|"
    r"\d+\s+comentarios?|kommentar (?:schreiben|verfassen|abschicken|hinterlassen)|\d+\s+kommentare?|"
    r"发表评论|我要评论|网友评论|评论|请输入(?:评论|您的评论|验证码|昵称).*|查看(?:全部)?评论|"
    r"اترك تعليقا|اترك تعليقاً|أضف تعليق[اًك]*|التعليقات|اكتب تعليقك|تعليقات)"
)
_COMMENT_PROMPT = regex.compile(
    rf"(?i)^(?:{_FEEDBACK_QUESTION}\s*(?:{_COMMENT_PROMPTS})?|{_COMMENT_PROMPTS})"
    r"(?:\s*[(（]\d+[)）])?[\s!.:：]*$")
_CAPTCHA = regex.compile(r"(?i)captcha|i'?m not a robot|are you a robot|验证码|رمز التحقق")
_NEWSLETTER = regex.compile(
    r"(?i)\b(?:subscribe|sign up|signup)\b.{0,30}\bnewsletters?\b|"
    r"^(?:newsletters?|subscribe(?: now)?|suscríbete|suscríbase|abonnez-vous|s'abonner|abonnieren|"
    r"подписаться|подпишитесь|订阅)$|"
    r"\b(?:abonnez-vous|inscrivez-vous)\b.{0,30}\b(?:newsletter|lettre d'information)|"
    r"\b(?:suscríbete|suscribirse|suscribete)\b.{0,30}\b(?:boletín|newsletter)|"
    r"newsletter (?:abonnieren|bestellen)|zum newsletter anmelden|订阅(?:我们的)?(?:新闻|邮件|简报|电子报)|"
    r"اشترك في (?:النشرة|نشرتنا)")
_PAGE_STAMP = regex.compile(r"(?i)\bpage\s*[a-z]?0*\d{1,3}\b|第\s*[a-z]?\d{1,3}\s*版|\bp\.\s*[a-z]?\d{1,3}\b")
_YEAR = regex.compile(r"(?:19|20)\d{2}")

_MONTHS = (
    r"jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?|"
    r"oct(?:ober)?|nov(?:ember)?|dec(?:ember)?|janvier|février|mars|avril|mai|juin|juillet|août|septembre|"
    r"octobre|novembre|décembre|enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|octubre|"
    r"noviembre|diciembre|januar|februar|märz|juni|juli|oktober|dezember|января|февраля|марта|апреля|мая|"
    r"июня|июля|августа|сентября|октября|ноября|декабря|يناير|فبراير|مارس|أبريل|إبريل|مايو|يونيو|يوليو|"
    r"أغسطس|سبتمبر|أكتوبر|نوفمبر|ديسمبر|كانون الثاني|شباط|آذار|نيسان|أيار|حزيران|تموز|آب|أيلول|"
    r"تشرين الأول|تشرين الثاني|كانون الأول"
)
_WEEKDAYS = (
    r"[a-z]+day|lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche|lunes|martes|miércoles|jueves|viernes|"
    r"sábado|domingo|montag|dienstag|mittwoch|donnerstag|freitag|samstag|sonntag|понедельник|вторник|среда|"
    r"четверг|пятница|суббота|воскресенье|الأحد|الاثنين|الإثنين|الثلاثاء|الأربعاء|الخميس|الجمعة|السبت"
)
_DATE = (
    rf"(?:\d{{4}}\s*[-/.]\s*\d{{1,2}}(?:\s*[-/.]\s*\d{{1,2}})?|\d{{1,2}}[-/.]\d{{1,2}}[-/.]\d{{4}}|"
    rf"\d{{4}}\s*年\s*\d{{1,2}}\s*月(?:\s*\d{{1,2}}\s*日)?|"
    rf"(?:{_MONTHS})\.?\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}|"
    rf"\d{{1,2}}(?:er)?\.?\s+(?:de\s+)?(?:{_MONTHS})\.?\s+(?:de\s+)?\d{{4}})"
    r"(?:(?:[\sT,]+|,?\s+(?:à|a las|um|at|в)\s+)"
    r"\d{1,2}(?:[:h]\d{2}(?::\d{2})?|\s*時(?:\s*\d{1,2}\s*分)?)"
    r"(?:\s*(?:am|pm|a\.m\.|p\.m\.|uhr))?(?:\s*(?:[A-Z]{2,4}))?(?:\s*[+-]\d{1,2}(?::?\d{2})?)?)?"
)
_DATE_LABEL = (
    r"updated|last updated|published|posted|date|publié le|publié|mis à jour(?: le)?|publicado(?: el)?|"
    r"actualizado(?: el)?|veröffentlicht(?: am)?|aktualisiert(?: am)?|stand|发布时间|发布日期|更新时间|时间|日期|"
    r"تاريخ النشر|نشر في|آخر تحديث|تحديث"
)
_DATE_IN_TEXT = regex.compile(rf"(?i){_DATE}")
# "Publié le 14 mars 2026 à 08h12, mis à jour à 10h45": a later update on the same line.
_UPDATE_TAIL = (
    rf"[,|]?\s*(?:updated|mis à jour|actualizado|aktualisiert|обновлено)(?:\s+(?:le|el|am|on|à|at|a las))*"
    rf"\s*[:：]?\s*(?:{_DATE}|\d{{1,2}}[:h]\d{{2}})"
)
# A dateline may name the place first: "Murcia, 3 de abril de 2026".
_DATE_LINE_BODY = (
    rf"(?:(?:{_DATE_LABEL})\s*[:：]?\s*|\p{{Lu}}[\p{{L}}'’. -]{{1,30}},\s+)?(?:(?:{_WEEKDAYS}),?\s+)?"
    rf"{_DATE}(?:\s*{_UPDATE_TAIL})?"
)
_DATE_LINE = regex.compile(rf"(?i)^{_DATE_LINE_BODY}\s*$")

_BY_PREFIX = regex.compile(r"(?i)^(?:by|par|por|von|di|door)\s+(?P<rest>.+)$")
_ROLE = regex.compile(
    r"(?i)^(?P<role>(?:(?:written|reported|compiled|edited|photos?|text|translated) by)|reporters?|"
    r"correspondents?|photographers?|photos?|writers?|editors?|authors?|journalists?|text|translators?|"
    r"contributors?|journaliste|rédacteur|rédactrice|correspondant|correspondante|texte|redactor|redactora|"
    r"corresponsal|periodista|texto|foto|autor|autorin|redakteur|redakteurin|korrespondent|автор|"
    r"корреспондент|обозреватель|редактор|текст|фото|"
    r"本报记者|记者|通讯员|责任编辑|责编|编辑|作者|撰文|摄影|翻译|文|图)"
    r"(?:\s*[:：/]\s*|\s+)(?P<names>.+)$")
_ARABIC_ROLE = regex.compile(
    r"^(?P<role>كتب|كتبت|بقلم|مراسل|المراسل|تصوير|تحرير|ترجمة|إعداد)\s*[:：]\s*(?P<names>.+)$")
_CREDIT_SEPARATOR = re.compile("[;；]")
# "By Claire Morel, correspondante régionale": the job title after the name is not part of the byline.
_JOB_TITLE = regex.compile(
    r"(?i),\s*[^,]{0,40}\b(?:correspondent|reporter|editor|writer|journalist|columnist|"
    r"correspondante?|journaliste|rédact(?:eur|rice)|envoyée? spéciale?|corresponsal|redactora?|periodista|"
    r"enviad[oa] especial|korrespondent(?:in)?|redakteur(?:in)?|корреспондент|обозреватель)\b[^,]{0,40}$")
# Newsroom and agency credits without a personal name: "Redacción / Agencias", "Staff and agencies".
_DESK_CREDIT = regex.compile(
    r"(?i)^(?:staff|newsroom|agencies|wires|redacción|agencias|rédaction|agences|redaktion|agenturen|"
    r"редакция|агентства)(?:\s*(?:/|,|&|\||and|y|et|und|и)\s*(?:staff|newsroom|agencies|wires|redacción|"
    r"agencias|rédaction|agences|redaktion|agenturen|редакция|агентства|afp|ap|reuters|efe|dpa|ansa|тасс))*$")
_NAME_SEPARATORS = regex.compile(r"\s*(?:,|、|，|&|\band\b|\bet\b|\by\b|\bund\b|\bو)\s*")
_NAME_PARTICLES = frozenset("de da di del der van von la le al el bin ibn du dos das y e".split())
_SOURCE_LABEL = (
    r"source|sources|via|credit|credits|courtesy(?: of)?|المصدر|مصدر|fuente|quelle|来源|稿源|出处|crédit|crédits"
)
_ATTRIBUTION_IN_PARENS = regex.compile(rf"(?i)^[(（]\s*(?:{_SOURCE_LABEL})\s*[:：]\s*.{{1,250}}[)）]$")
_ATTRIBUTION_LINE = regex.compile(rf"(?i)^(?:{_SOURCE_LABEL})\s*[:：]\s*[^.!?。！？]{{1,120}}$")
# "2026年6月18日 10:05 来源：江城日报": the date and the source on one line.
_DATED_SOURCE_LINE = regex.compile(
    rf"(?i)^{_DATE_LINE_BODY}\s+(?:{_SOURCE_LABEL})\s*[:：]\s*(?P<source>[^.!?。！？:：]{{1,40}})$")
_PARENTHESIZED_NAME = regex.compile(r"^[(（](?P<name>[^()（）]{1,50})[)）]$")

# Menu items are separated by a bar, or by a spaced slash, dot, bullet, guillemet or arrow; a bare "·"
# also joins the parts of a transliterated name ("让·雅克·卢梭") and a bare "/" joins words ("and/or").
_MENU_SEPARATOR = regex.compile(r"\s*\|\s*|\s+[/·•»›>→]\s+")
# Every menu separator holds one of these: lines without any (most) are no menu, found without splitting.
_MENU_SEPARATOR_CHARACTER = re.compile("[|/·•»›>→]")
_SPACE_RUN = regex.compile(r"[\t\p{Zs}]{2,}")
_MENU_ITEM_MAX_CHARS = 30
_MENU_ITEM_MAX_WORDS = 3
_DIGIT = regex.compile(r"\d")
# Scripts written without spaces between words, where one "word" can be a whole headline.
_UNSPACED_SCRIPT = regex.compile(r"[\p{Han}\p{Hiragana}\p{Katakana}\p{Thai}\p{Lao}\p{Khmer}\p{Myanmar}]")
_UNSPACED_HEADLINE_MIN_CHARS = 6
# Four Unicode decimal digits (category Nd) in a row, as `\d` of `regex` reads them; the standard `re`
# scans for them faster.
_FOUR_DIGITS = re.compile(r"\d{4}")
_ASCII_GLUE = re.compile("(?<=[a-z])(?=[A-Z])")
# `re` splits twice as fast as `regex`, and both read `\s` alike on a cleaned line: `re` adds only the
# separators \x1c-\x1f, which `_repair` removes as control characters.
_WORD_SPLIT = re.compile(r"[\s|/·•»›>,;:：，、\-–—_]+")
_GLUE = regex.compile(r"(?<=\p{Ll})(?=\p{Lu})|(?<=\p{Han})(?=[^\p{Han}])|(?<=[^\p{Han}])(?=\p{Han})")
# _GLUE without Han on the line: its lookbehinds at every character made it the slowest pattern of all.
_LOWER_UPPER_GLUE = regex.compile(r"(?<=\p{Ll})(?=\p{Lu})")
_LOWER_UPPER = regex.compile(r"\p{Ll}\p{Lu}")
_ASCII_LOWER_UPPER = re.compile("[a-z][A-Z]")
_HAN = regex.compile(r"\p{Han}")
_HAN_NAME = regex.compile(r"^(?:\p{Han}{2,4}|\p{Han}+(?:·\p{Han}+)+)$")
_LATIN = regex.compile(r"\p{Latin}")
_ARABIC = regex.compile(r"\p{Arabic}")
_LIST_MARKER = regex.compile(r"^\s*(?:[-*•+]\s|\d+[.)]\s)")
_MARKDOWN_HEADING = regex.compile(r"^#{1,6}\s+")
_GLUED_BREADCRUMB = regex.compile(
    r"^(?:(?:Home|News|World|China|Business|Sports?|Opinion|Culture|Lifestyle|Life|Tech|Video|Photos?|"
    r"Politics|Society|Economy|Latest|Local|National|International)(?=\p{Lu})){2,}")
_SEPARATED_BREADCRUMB = regex.compile(
    r"(?i)^(?:home|首页|accueil|inicio|startseite|الرئيسية)\s*[>»›/|]\s*(?:[^>»›/|]{1,30}\s*[>»›/|]\s*)*")
_SITE_SUFFIX = regex.compile(
    r"\s*[-–—|_·:]\s*(?:[\p{L}\d]+\.)+[a-z]{2,6}(?:\.[a-z]{2})?\s*$|\s*[_\-－|]\s*\p{Han}{2,8}网\s*$")

# Line shapes shared by the rules and the cleaner.
_SPACES = regex.compile(r"[\t\p{Zs}]+")
_TERMINAL = ".!?。！？؟…;；:：,，،"
_CLOSERS = "\"'”’»）)]】」』"
_SHORT_LINE = 120          # prompts, headers, menus and stamps are short
_LONG_LINE = 300           # no line rule but copyright and cookie banners applies to longer lines
_HEADLINE_MAX_CHARS = 200
# A breadcrumb before a headline and a site name after it stay well within this.
_HEADLINE_MAX_LINE_CHARS = 1_000
_HEADLINE_MAX_WORDS = 30
