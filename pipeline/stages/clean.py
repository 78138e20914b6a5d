"""Clean stage: repair text and remove web boilerplate, keeping the body faithful.

The text is repaired first (NFC, mojibake, control characters), then judged line by line, because
scraped boilerplate is line-shaped: menus, page stamps, block headers and the links under them,
copyright and licence footers, comment, captcha, share, newsletter and cookie prompts. Title, byline,
date and source attribution lines become metadata. Every line taken out of the body is recorded with
the rule that matched it, so what was dropped can be audited. The remaining lines are split into
paragraphs by the rules of `split_paragraphs` (`pipeline.stages.segment.paragraphs_from_lines`). Rules are
general patterns and vocabularies in several languages, not strings of particular pages.
"""
from __future__ import annotations

import math
import re
import unicodedata
from functools import lru_cache
from pathlib import PurePath
from typing import Callable, Iterable, Mapping, Sequence
from urllib.parse import urlsplit

import ftfy
import regex
from ftfy.badness import MOJIBAKE_CATEGORIES, is_bad
from ftfy.chardata import HTML_ENTITY_RE

from pipeline.stages.boilerplate import BodyModel, SiteRepetition, body_scores, is_interface_phrase, word_count
from pipeline.records import CleanedDocument, CleanedRecord, RawDocument, Reject, RejectReason, RemovedLine
from pipeline.stages.segment import paragraphs_from_lines
from pipeline.settings import BODY_THRESHOLD, MIN_SITE_REPEATS
from pipeline.stages.base import Stage

# Repair mojibake and encoding debris, but leave every deliberate character alone: the source side of
# a bilingual record must be faithful, so typographic quotes, ligatures and full-width forms stay.
_FTFY_CONFIG = ftfy.TextFixerConfig(
    uncurl_quotes=False, fix_latin_ligatures=False, fix_character_width=False, normalization="NFC",
    explain=False,
)
# ftfy is the slowest step, so only lines holding a character that mojibake, HTML entities, terminal
# escapes or surrogates are made of go through it (UTF-8 misread as cp1252, Latin-1, cp1250/1251, Greek
# or MacRoman always yields Latin-1/Latin Extended, Greek, Cyrillic, spacing modifiers or symbols).
# The scans over the whole text use the standard `re`: they are plain code-point ranges, which it scans
# several times faster than `regex`.
_MOJIBAKE_HINT = re.compile(
    "[&\x1b\x80-\u024f\u02c6-\u02dd\u0370-\u04ff\u2190-\u25ff\ufb01\ufb02\ufffd\ud800-\udfff]")
# A hinted line still goes through ftfy only if one of its fixers could change it: fix_text returns its
# input unchanged unless the line holds what a fixer acts on (an HTML entity as ftfy's unescape_html
# reads them, a control, C1 or format character, a line break, a surrogate, a terminal escape), is not
# NFC, or looks like mojibake to `ftfy.badness.is_bad`. Every pattern of is_bad needs a character of one
# of the categories below or one of the characters listed after them, so is_bad only runs on lines
# holding one. A bare "&" ("News & Politics") is no entity: such lines, many on some pages, skip ftfy.
_FTFY_FIXABLE = re.compile(
    HTML_ENTITY_RE.pattern
    + "|[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u206a-\u206f\ud800-\udfff\ufeff\ufff9-\ufffc]")
_MOJIBAKE_SUSPECT = re.compile("[" + "".join(
    MOJIBAKE_CATEGORIES[category] for category in (
        "c1", "bad", "law", "currency", "start_punctuation", "end_punctuation", "numeric", "box",
        "upper_accented")) + "ŒœÙ°Ђ]")
# The longest text one match of is_bad's pattern covers (checked against ftfy's pattern by a test).
_BADNESS_MAX_WIDTH = 7
# Line breaks other than "\n" (CR LF is one break); str.replace finds them ten times faster than `re`.
_OTHER_LINE_BREAKS = "\r\v\f\x85\u2028\u2029"
# Control characters (C0 and C1 but newline and tab), and the invisible format characters ftfy also
# removes: deprecated format characters, byte-order mark, interlinear annotation.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u206a-\u206f\ufeff\ufff9-\ufffb]")
_SPACES = regex.compile(r"[\t\p{Zs}]+")

_TERMINAL = ".!?。！？؟…;；:：,，،"
_CLOSERS = "\"'”’»）)]】」』"
_SHORT_LINE = 120          # prompts, headers, menus and stamps are short
_LONG_LINE = 300           # no line rule but copyright and cookie banners applies to longer lines
_HEADLINE_MAX_CHARS = 200
_HEADLINE_MAX_WORDS = 30
_TITLE_MAX_WORDS_SKIPPED = 3
# A line the rules leave is kept when its body score (pipeline.stages.boilerplate) reaches BODY_THRESHOLD; a
# headline needs less, being short, but a line scored as sure boilerplate never becomes the title.
# A short line weighs a few words in a page's text and a whole segment in its output: menus, labels and
# teaser fragments are made of them. Removing an unsure one costs the body little, keeping it adds a
# boilerplate segment to translate and write; so a line of fewer than SHORT_LINE_WORDS words is kept
# only when its odds of being body are SHORT_LINE_ODDS times those a longer line needs (0.6 for 0.25).
SHORT_LINE_WORDS = 4
SHORT_LINE_ODDS = 4.5
TITLE_MIN_SCORE = 0.2
TITLE_SURE_SCORE = 0.35
# A text of fewer undecided lines than this is no scraped page with menus and teasers to judge: the
# rules alone clean it.
MIN_SCORED_LINES = 5
# A page whose undecided lines are all sentences (a headline aside) is prose through and through: the
# body scorer keeps every such line, so it is not run. A sentence here ends with a full stop of its
# script and holds five words or more (twelve characters in scripts written without spaces).
_FULL_STOPS = ".!?。！？؟…।"
_PROSE_MIN_SPACES = 4
_PROSE_MIN_UNSPACED_CHARS = 12
LOW_SCORE_RULE = "low_score"
# Repetition across a batch: a line of this many characters found in this many pages of one site.
REPEATED_RULE = "repeated_in_site"
REPEATED_MIN_CHARS = 12

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


# --- helpers ---------------------------------------------------------------------------------------

def _ends_sentence(line: str) -> bool:
    stripped = line.rstrip(_CLOSERS + " ")
    return bool(stripped) and stripped[-1] in _TERMINAL


def _words(line: str) -> list[str]:
    # _GLUE over a line without Han reduces to lower-then-upper, which `re` finds several times faster
    # on a line of ASCII.
    if line.isascii():
        glued = _ASCII_GLUE.sub(" ", line)
    else:
        glued = (_GLUE if _HAN.search(line) else _LOWER_UPPER_GLUE).sub(" ", line)
    return [word for word in _WORD_SPLIT.split(glued) if word]


def _segment_han(word: str, vocabulary: frozenset[str]) -> bool:
    """Whether a run of Han characters is made entirely of vocabulary words (greedy longest match)."""
    position = 0
    while position < len(word):
        for end in range(len(word), position, -1):
            if word[position:end] in vocabulary:
                position = end
                break
        else:
            return False
    return True


def _mostly_vocabulary(
        line: str, vocabulary: frozenset[str], han_vocabulary: frozenset[str], share: float) -> bool:
    """Whether the line has two words or more and at least `share` of them are in the vocabulary.

    Counting stops at the first unknown word too many: on most lines, the first word.
    """
    words = _words(line)
    if len(words) < 2:
        return False
    unknown_allowed = len(words) - math.ceil(share * len(words))
    for word in words:
        if not (word.casefold() in vocabulary
                or (not word.isascii() and _HAN.match(word) and _segment_han(word, han_vocabulary))):
            unknown_allowed -= 1
            if unknown_allowed < 0:
                return False
    return True


def _is_navigation(line: str) -> bool:
    if len(line) > 100 or _ends_sentence(line):
        return False
    if _UI_LINES.match(line):
        return True
    if _mostly_vocabulary(line, _NAV_WORDS, _HAN_NAV_WORDS, 0.75):
        return True
    # Menus flattened by a scraper glue their items together: "HomeWorldBusinessTech".
    glued = len((_ASCII_LOWER_UPPER if line.isascii() else _LOWER_UPPER).findall(line))
    return glued >= 3 and glued > line.count(" ")


def _is_menu(items: list[str]) -> bool:
    """Whether the parts of a line are menu items: three or more short labels without digits."""
    if len(items) < 3:
        return False
    for item in items:
        item = item.strip()
        if (not item or len(item) > _MENU_ITEM_MAX_CHARS or len(item.split()) > _MENU_ITEM_MAX_WORDS
                or _DIGIT.search(item) or _ends_sentence(item)):
            return False
    return True


def _is_menu_line(line: str) -> bool:
    return (len(line) <= _SHORT_LINE and _MENU_SEPARATOR_CHARACTER.search(line) is not None
            and _is_menu(_MENU_SEPARATOR.split(line)))


def _is_single_word(line: str) -> bool:
    return " " not in line and not (
        len(line) >= _UNSPACED_HEADLINE_MIN_CHARS and _UNSPACED_SCRIPT.search(line))


def _is_share_prompt(line: str) -> bool:
    if len(line) > 80:
        return False
    # Split at separators only: brand names keep their inner capitals ("LinkedIn", "WhatsApp").
    words = [word.casefold() for word in _WORD_SPLIT.split(line) if word]
    if len(words) == 1 and _UNSPACED_SHARE.match(words[0]):
        return True
    return bool(words) and all(word in _SHARE_WORDS for word in words) and any(
        word in _SHARE_CORE for word in words)


def _is_copyright(line: str) -> bool:
    if _COPYRIGHT_START.match(line):
        return True
    if len(line) > _LONG_LINE:
        return False
    if "©" in line and len(line) <= 200:
        return True
    return bool(_RIGHTS_AS_SENTENCE.search(line)) or (len(line) <= 150 and bool(_CJK_RIGHTS.search(line)))


def _is_cookie_banner(line: str) -> bool:
    return len(line) <= 600 and bool(_COOKIE_WORD.search(line)) and bool(_COOKIES.search(line))


def _is_licence(line: str) -> bool:
    return (len(line) <= _SHORT_LINE and not _ends_sentence(line) and bool(_LICENCE.search(line))
            and bool(_LONG_NUMBER.search(line)))


def _is_section_header(line: str) -> bool:
    return len(line) <= 60 and line.rstrip(_HEADER_TRAILER).casefold() in _SECTION_HEADERS


def _is_page_stamp(line: str) -> bool:
    # A stamp holds a year: "19" or "20" is looked for before any pattern.
    return (len(line) <= 80 and not _ends_sentence(line) and ("19" in line or "20" in line)
            and bool(_YEAR.search(line)) and bool(_PAGE_STAMP.search(line)))


def _names_like(text: str) -> bool:
    """Whether `text` reads as a list of personal or organisation names."""
    parts = [part.strip() for part in _NAME_SEPARATORS.split(text.strip()) if part and part.strip()]
    if not parts or len(parts) > 8:
        return False
    for part in parts:
        words = part.split()
        if _HAN.search(part):
            # Chinese names are two to four characters; foreign names are joined by a middle dot.
            if len(words) > 4 or not all(_HAN_NAME.match(word) for word in words):
                return False
        elif _ARABIC.search(part):
            if len(words) > 3:
                return False
        elif not (1 <= len(words) <= 5 and all(
                (word[0].isupper() or word.casefold() in _NAME_PARTICLES)
                and not any(char.isdigit() for char in word)
                for word in words)):
            return False
    return True


def _strip_parentheses(line: str) -> str:
    if line[:1] in "(（" and line[-1:] in ")）":
        return line[1:-1].strip()
    return line


def _has_colon(line: str) -> bool:
    return ":" in line or "：" in line


def _date_of(text: str) -> str | None:
    match = _DATE_IN_TEXT.search(text)
    return match.group(0).strip() if match else None


class _Metadata:
    """Title, byline, date and attribution found in the text; the first of each wins."""

    def __init__(self) -> None:
        self.values: dict[str, str] = {}

    def offer(self, field: str, value: str | None) -> None:
        if value and field not in self.values:
            self.values[field] = value


def _byline(line: str, found: _Metadata) -> bool:
    """Recognise a credit line: "By X | Paper | Updated: date", "Reporter X", "(Reporters: X; photo: Y)"."""
    if len(line) > 200:
        return False
    by = _BY_PREFIX.match(line)
    if by:
        names, _, rest = by.group("rest").partition("|")
        names = _JOB_TITLE.sub("", names)
        if not _names_like(names):
            return False
        found.offer("byline", names.strip())
        for part in filter(None, (part.strip() for part in rest.split("|"))):
            if _DATE_LINE.match(part):
                found.offer("published", _date_of(part))
            else:
                found.offer("attribution", part)
        return True
    if _DESK_CREDIT.match(line):
        found.offer("byline", line)
        return True
    credit = _strip_parentheses(line)
    segments = [segment.strip() for segment in _CREDIT_SEPARATOR.split(credit) if segment.strip()]
    for index, segment in enumerate(segments):
        role = _ROLE.match(segment) or (not segment.isascii() and _ARABIC_ROLE.match(segment))
        names = role.group("names") if role else (segment if index else None)
        if names is None or not _names_like(names.rstrip(".")):
            return False
    found.offer("byline", credit)
    return True


def _attribution(line: str, found: _Metadata) -> bool:
    if len(line) > 260:
        return False
    # Each pattern needs an opening parenthesis first or a colon: most lines hold neither.
    parenthesized = line.startswith(("(", "（"))
    if ((parenthesized and _ATTRIBUTION_IN_PARENS.match(line))
            or (_has_colon(line) and _ATTRIBUTION_LINE.match(line))):
        found.offer("attribution", _strip_parentheses(line))
        return True
    named = _PARENTHESIZED_NAME.match(line) if parenthesized else None
    if named and _names_like(named.group("name")):
        found.offer("attribution", named.group("name").strip())
        return True
    return False


def _published(line: str, found: _Metadata) -> bool:
    # Every date pattern holds four digits in a row (a year): lines without are passed over cheaply.
    if len(line) > 100 or not _FOUR_DIGITS.search(line):
        return False
    if len(line) <= 60 and _DATE_LINE.match(line):
        found.offer("published", _date_of(line))
        return True
    dated_source = _DATED_SOURCE_LINE.match(line) if _has_colon(line) else None
    if dated_source:
        found.offer("published", _date_of(line))
        found.offer("attribution", dated_source.group("source").strip())
        return True
    return False


def _headline_text(line: str) -> str:
    """A headline without the breadcrumb glued before it or the site name after it."""
    text = _MARKDOWN_HEADING.sub("", line)
    text = _SEPARATED_BREADCRUMB.sub("", text)
    text = _GLUED_BREADCRUMB.sub("", text)
    return _SITE_SUFFIX.sub("", text).strip()


def _headline_key(line: str) -> str:
    return _SPACES.sub(" ", _headline_text(line)).strip(" " + _TERMINAL).casefold()


def _is_headline(line: str) -> bool:
    """Headline-shaped: short, more than one word, not a sentence, not a list item or a menu."""
    text = _headline_text(line)
    return (bool(text) and len(text) <= _HEADLINE_MAX_CHARS and len(text.split()) <= _HEADLINE_MAX_WORDS
            and not _ends_sentence(text) and not _is_single_word(text) and not _LIST_MARKER.match(line)
            and not _is_menu_line(line))


# Order matters: specific footers and prompts first, metadata lines last. Each rule is (name, predicate,
# whether the predicate also takes the metadata found so far, which it fills in).
_LINE_RULES: tuple[tuple[str, Callable[..., bool], bool], ...] = (
    ("copyright", _is_copyright, False),
    ("licence", _is_licence, False),
    ("browser_note", lambda line: len(line) <= 200 and bool(_BROWSER_NOTE.search(line)), False),
    ("cookie_banner", _is_cookie_banner, False),
    ("captcha", lambda line: len(line) <= _SHORT_LINE and bool(_CAPTCHA.search(line)), False),
    ("comment_prompt", lambda line: len(line) <= _SHORT_LINE and bool(_COMMENT_PROMPT.match(line)), False),
    ("share_prompt", _is_share_prompt, False),
    ("newsletter", lambda line: len(line) <= _SHORT_LINE and len(line.split()) <= 12
     and bool(_NEWSLETTER.search(line)), False),
    ("section_header", _is_section_header, False),
    ("related_link", lambda line: _has_colon(line) and bool(_INLINE_RELATED.match(line)), False),
    ("page_stamp", _is_page_stamp, False),
    ("navigation", _is_navigation, False),
    ("byline", _byline, True),
    ("attribution", _attribution, True),
    ("published", _published, True),
    # Last, so that credit lines such as "By X | Paper | Updated: date" are read as metadata first.
    ("navigation", _is_menu_line, False),
    # "Sign in", "تسجيل الدخول", "Read more": a short phrase of interface words only (on the dev set,
    # 17,000 tokens of such lines are boilerplate and 130 body).
    ("interface", is_interface_phrase, False),
)


def _by_first_character(words: Iterable[str]) -> str:
    """A pattern matching any of `words` (literal text), with one alternative per first character.

    `re` tries a pattern's alternatives one after the other at every position of a line; grouped by
    their first character, most are passed over at once: the scan takes a quarter less time.
    """
    groups: dict[str, list[str]] = {}
    for word in words:
        groups.setdefault(word[0], []).append(re.escape(word[1:]))
    return "|".join(f"{re.escape(first)}(?:{'|'.join(rests)})" for first, rests in groups.items())


# The rules that only match a line holding one of their key words, and those words (lower case): one
# search of the lower-cased line passes over all of them on the lines (most) that hold none. The
# standard `re` without IGNORECASE scans a lower-cased line several times faster than `regex` with it.
_KEYWORD_RULES = frozenset({"copyright", "licence", "browser_note", "cookie_banner", "captcha", "newsletter"})
_RULE_KEYWORDS = re.compile(_by_first_character([
    "copyright", "©", "(c)", "copr.", *_RIGHTS_RESERVED.split("|"), "未经",
    "licence", "license", "registration", "registered", "permit", "icp", "备案", "许可证", "登记证", "经营许可",
    "browser", "resolution", "best viewed", "分辨率", "浏览器",
    "cookie", "куки", "クッキー", "الكوكيز", "ملفات تعريف الارتباط",
    "captcha", "not a robot", "are you a robot", "验证码", "رمز التحقق",
    "subscri", "sign up", "signup", "newsletter", "suscr", "abonn", "inscrivez", "подпис", "订阅", "اشترك"]))
_RULES_WITHOUT_KEYWORDS = tuple(rule for rule in _LINE_RULES if rule[0] not in _KEYWORD_RULES)


def _classify(line: str, found: _Metadata) -> str | None:
    if len(line) > _LONG_LINE:
        # Prose: of all the rules only a copyright footer or a cookie banner can be this long.
        if _COPYRIGHT_START.match(line):
            return "copyright"
        return "cookie_banner" if _is_cookie_banner(line) else None
    rules = _LINE_RULES if _RULE_KEYWORDS.search(line.lower()) else _RULES_WITHOUT_KEYWORDS
    for name, matches, takes_metadata in rules:
        if matches(line, found) if takes_metadata else matches(line):
            return name
    return None


# Menus, teasers and footers recur on every page of a site: lines already judged are looked up.
_RULE_CACHE_LINES = 1 << 16


@lru_cache(maxsize=_RULE_CACHE_LINES)
def _rule_and_metadata(line: str) -> tuple[str | None, tuple[tuple[str, str], ...]]:
    """The rule that takes `line` and the metadata it offers, read on its own."""
    found = _Metadata()
    return _classify(line, found), tuple(found.values.items())


def _classify_repeating(line: str, found: _Metadata) -> str | None:
    """`_classify`, with the rule of a line seen before taken from a cache.

    A rule's verdict depends on the line alone; what it offers as metadata is offered again, in the
    same order, so the first value of each field still wins.
    """
    if len(line) > _LONG_LINE:
        return _classify(line, found)
    rule, offers = _rule_and_metadata(line)
    for field, value in offers:
        found.offer(field, value)
    return rule


def _ftfy_may_change(line: str) -> bool:
    """False only where `ftfy.fix_text(line, _FTFY_CONFIG)` would return `line` unchanged."""
    return bool(
        _FTFY_FIXABLE.search(line) or not unicodedata.is_normalized("NFC", line)
        or _looks_like_mojibake(line)
        # fix_text cuts longer lines into pieces, which this reasoning does not cover.
        or len(line) > _FTFY_CONFIG.max_decode_length)


def _looks_like_mojibake(line: str) -> bool:
    """`is_bad(line)`, or True where it might be: is_bad is run on the characters around each suspect.

    Every match of is_bad's pattern holds a suspect character and is at most _BADNESS_MAX_WIDTH long,
    so the window around that character holds it too; a window can only add matches (one that starts
    mid-line matches `^`), which costs a call to ftfy but never skips one. French text has « » on
    most lines: searching a few windows instead of the whole line made cleaning 10 % faster.
    """
    reach = _BADNESS_MAX_WIDTH - 1
    return any(is_bad(line[max(0, match.start() - reach):match.start() + _BADNESS_MAX_WIDTH])
               for match in _MOJIBAKE_SUSPECT.finditer(line))


def _unify_line_breaks(text: str) -> str:
    """`text` with every line break written "\n"."""
    text = text.replace("\r\n", "\n")
    for line_break in _OTHER_LINE_BREAKS:
        if line_break in text:
            text = text.replace(line_break, "\n")
    return text


def _has_mojibake_hint(line: str) -> bool:
    # In ASCII, only "&" and the escape character are hints: most lines of a page need no search.
    return (not line.isascii() or "&" in line or "\x1b" in line) and _MOJIBAKE_HINT.search(line) is not None


def _repair(text: str) -> tuple[list[str], set[int]]:
    """NFC, mojibake and control characters repaired; lines with whitespace collapsed.

    Also returns the indexes of lines laid out as menus with runs of spaces ("Home  News  Sport"),
    since collapsing the whitespace erases that layout.
    """
    text = _unify_line_breaks(text)
    if _MOJIBAKE_HINT.search(text):
        repaired = "\n".join(
            ftfy.fix_text(line, _FTFY_CONFIG) if _has_mojibake_hint(line) and _ftfy_may_change(line)
            else line
            for line in text.split("\n"))
    else:
        repaired = text
    raw_lines = _CONTROL.sub("", unicodedata.normalize("NFC", repaired)).split("\n")
    spaced_menus = {
        index for index, line in enumerate(raw_lines)
        if ("  " in line or "\t" in line) and len(line) <= _SHORT_LINE
        and _is_menu(_SPACE_RUN.split(line.strip()))
    }
    # str.split() splits on every Unicode space (\p{Zs}) and tab: whitespace collapses to one space.
    return [" ".join(line.split()) for line in raw_lines], spaced_menus


def _mark_links_under_headers(lines: list[str], rules: list[str | None]) -> None:
    """Short link lines under a "Related Articles"-style header belong to that block, not the body."""
    in_block = False
    for index, line in enumerate(lines):
        if not line:
            continue
        if rules[index] == "section_header":
            in_block = True
        elif rules[index] is None:
            if in_block and len(line) <= 150 and not _ends_sentence(line):
                rules[index] = "related_link"
            else:
                in_block = False


def _mark_menu_words_at_top(lines: list[str], rules: list[str | None]) -> None:
    """Menu items one per line at the top of a page ("Inicio", "Nacional", "Economía") are navigation.

    A run of single words before the first other line is a menu when one of them is a known menu word
    or the run sits next to a recognised navigation line.
    """
    run: list[int] = []
    known = 0
    for index, line in enumerate(lines):
        if not line:
            continue
        rule = rules[index]
        if rule == "navigation":
            known += 1
        elif rule is None:
            if not _is_single_word(line) or _ends_sentence(line) or _DIGIT.search(line):
                break
            run.append(index)
            known += line.casefold() in _NAV_WORDS or bool(
                _HAN.match(line) and _segment_han(line, _HAN_NAV_WORDS))
        elif rule in ("title", "repeated_title"):
            break
    if known and len(run) + known >= 2:
        for index in run:
            rules[index] = "navigation"


def _mark_title(lines: list[str], rules: list[str | None], given_title: str | None,
                scores: Sequence[float], min_score: float) -> str | None:
    """Find the headline at the top, and its repeats (often one with a breadcrumb glued on).

    Without a given title, the first headline-shaped line is taken, looking past a few single words
    (a kicker or an unrecognised menu item), past short interface phrases ("Sign in") whatever their
    score, and past lines scored as boilerplate ("Accessibility links"), but never past a sentence.
    """
    title_key = _headline_key(given_title) if given_title else None
    title: str | None = None
    words_skipped = 0
    # The lines no rule took, read one ahead; the search mostly ends near the top, so they are listed
    # lazily. Only the line at hand is ever marked, after the next one is read.
    content = (index for index, line in enumerate(lines) if line and rules[index] is None)
    upcoming = next(content, None)
    while upcoming is not None:
        index, upcoming = upcoming, next(content, None)
        line = lines[index]
        # Before a title is known no line repeats it: its key is only worked out for a headline candidate.
        if title_key is not None and _headline_key(line) == title_key:
            rules[index] = "repeated_title" if title else "title"
            title = title or _headline_text(line)
            continue
        if scores[index] < min_score or (title_key is None and is_interface_phrase(line)):
            continue
        if (title_key is None and words_skipped < _TITLE_MAX_WORDS_SKIPPED and _is_single_word(line)
                and not _ends_sentence(line)):
            words_skipped += 1
            continue
        if title_key is not None or not _is_headline(line) or upcoming is None:
            return title
        key = _headline_key(line)
        if (scores[index] < TITLE_SURE_SCORE and scores[upcoming] > scores[index]
                and _is_headline(lines[upcoming]) and _headline_key(lines[upcoming]) != key):
            continue   # an unsure line ("Sign in") before a headline scored more like body
        following = lines[index + 1] if index + 1 < len(lines) else ""
        if following and rules[index + 1] is None and following[:1].islower():
            return title   # a hard-wrapped paragraph, not a headline
        rules[index] = "title"
        title = _headline_text(line)
        title_key = key
    return title


def _given(metadata: Mapping[str, str], *keys: str) -> str | None:
    for key in keys:
        value = metadata.get(key)
        if value and value.strip():
            return _SPACES.sub(" ", value).strip()
    return None


def judge_lines(text: str, repeated: frozenset[str] = frozenset(),
                ) -> tuple[list[str], list[str | None], _Metadata]:
    """The page's repaired lines, the rule (or None) that removes each, and the metadata the rules found.

    Lines in `repeated` (lines a site repeats across many documents of a batch) are boilerplate.
    """
    lines, spaced_menus = _repair(text)
    found = _Metadata()
    rules = [_classify_repeating(line, found) if line else None for line in lines]
    for index in spaced_menus:
        if rules[index] is None:
            rules[index] = "navigation"
    if repeated:
        for index, line in enumerate(lines):
            if rules[index] is None and line in repeated:
                rules[index] = REPEATED_RULE
    _mark_menu_words_at_top(lines, rules)
    _mark_links_under_headers(lines, rules)
    return (*_join_continued_lines(lines, rules), found)


_CONTINUATION_START = regex.compile(r"\p{Ll}")


def _join_continued_lines(lines: list[str], rules: list[str | None]) -> tuple[list[str], list[str | None]]:
    """Lines no rule removed that continue the line before (it stops short of a sentence end, the next
    starts in lower case), joined into one: text wrapped by `<br>` or by width is one paragraph, scored
    and kept as one."""
    joined_lines: list[str] = []
    joined_rules: list[str | None] = []
    for line, rule in zip(lines, rules):
        if (rule is None and line and joined_lines and joined_rules[-1] is None and joined_lines[-1]
                and _CONTINUATION_START.match(line)
                and joined_lines[-1].rstrip(_CLOSERS)[-1:] not in _FULL_STOPS):
            joined_lines[-1] += " " + line
        else:
            joined_lines.append(line)
            joined_rules.append(rule)
    return joined_lines, joined_rules


def _is_sentence(line: str) -> bool:
    return (line.rstrip(_CLOSERS + " ")[-1:] in _FULL_STOPS
            and (line.count(" ") >= _PROSE_MIN_SPACES
                 or (len(line) >= _PROSE_MIN_UNSPACED_CHARS and bool(_UNSPACED_SCRIPT.search(line)))))


def _all_prose(lines: Sequence[str], rules: Sequence[str | None]) -> bool:
    """Whether `lines` are all sentences on a page without a comment prompt (readers' comments are
    sentences too, and the scorer is what removes them)."""
    return all(map(_is_sentence, lines)) and "comment_prompt" not in rules


def _short_line_threshold(threshold: float) -> float:
    """The score a short line needs: SHORT_LINE_ODDS times the odds of `threshold` (0 and 1 stay)."""
    if threshold <= 0 or threshold >= 1:
        return threshold
    odds = SHORT_LINE_ODDS * threshold / (1 - threshold)
    return odds / (1 + odds)


def clean(text: str, *, metadata: Mapping[str, str] | None = None, threshold: float = BODY_THRESHOLD,
          repeated: frozenset[str] = frozenset(), model: BodyModel | None = None) -> CleanedDocument:
    """Repair `text`, remove boilerplate lines and return the body paragraphs with document metadata.

    A line goes when a rule matches it, when it is in `repeated` (see `clean_batch`), or when its body
    score (`pipeline.stages.boilerplate.body_scores`) is below `threshold` (a short line needs more, see
    SHORT_LINE_ODDS); 0 keeps every line no rule takes.
    Values in `metadata` (keys title, author/byline, date/published, attribution/source) win over
    values found in the text. Every line removed from the body is listed in `removed` with its rule
    and, where it had one, its score. `model` replaces the shipped body model (one trained on other
    pages, see scripts/train_boilerplate.py).
    """
    metadata = metadata or {}
    lines, rules, found = judge_lines(text, repeated)
    undecided = [line for line, rule in zip(lines, rules) if line and rule is None]
    if len(undecided) >= MIN_SCORED_LINES and not _all_prose(undecided[1:], rules):
        scores = body_scores(lines, [rule is not None for rule in rules],
                             [rule == "comment_prompt" for rule in rules], model).tolist()
    else:
        scores = [1.0] * len(lines)
    given_title = _given(metadata, "title")
    guessed_title = _mark_title(lines, rules, given_title, scores, min(threshold, TITLE_MIN_SCORE))
    short_line_threshold = _short_line_threshold(threshold)
    removed = []
    for index, (line, rule) in enumerate(zip(lines, rules)):
        if rule is None and line and (scores[index] < threshold or (
                scores[index] < short_line_threshold and word_count(line) < SHORT_LINE_WORDS)):
            rules[index] = rule = LOW_SCORE_RULE
        if rule:
            removed.append(RemovedLine(line, rule, round(scores[index], 4) if rule == LOW_SCORE_RULE
                                       else None))
    return CleanedDocument(
        # _repair's lines are stripped and collapsed already: split_paragraphs would redo both.
        paragraphs=tuple(paragraphs_from_lines("" if rule else line for line, rule in zip(lines, rules))),
        title=given_title or guessed_title,
        byline=_given(metadata, "byline", "author") or found.values.get("byline"),
        published=_given(metadata, "published", "date") or found.values.get("published"),
        attribution=_given(metadata, "attribution", "source") or found.values.get("attribution"),
        removed=tuple(removed),
    )


def site_of(metadata: Mapping[str, str] | None, source: str | None = None) -> str:
    """The site a document comes from: the host of its url, else its source's directory."""
    url = (metadata or {}).get("url") or ""
    host = urlsplit(url.strip()).hostname if "://" in url else None
    if host:
        return host.removeprefix("www.")
    return str(PurePath(source).parent) if source else ""


def repeated_lines(documents: Iterable[tuple[str, str]], min_repeats: int = MIN_SITE_REPEATS,
                   ) -> dict[str, frozenset[str]]:
    """Per site, the lines found in `min_repeats` or more of its documents in a batch of (text, site).

    Lines are compared with whitespace collapsed, as `clean` reads them; only lines of REPEATED_MIN_CHARS
    or more count, since a single word repeats across any site by chance.
    """
    repetition = SiteRepetition(REPEATED_MIN_CHARS)
    for text, site in documents:
        repetition.add(site, {" ".join(line.split()) for line in _unify_line_breaks(text).split("\n")})
    return {site: repetition.repeated(site, min_repeats) for site in repetition.sites()}


def clean_batch(documents: Iterable[tuple[str, Mapping[str, str] | None, str]], *,
                threshold: float = BODY_THRESHOLD, min_repeats: int = MIN_SITE_REPEATS,
                ) -> list[CleanedDocument]:
    """`clean` over a batch of (text, metadata, site), with the lines a site repeats removed.

    A line found in `min_repeats` or more documents of the same site in the batch (menus, teasers and
    footers a site prints on every page) is boilerplate: rule "repeated_in_site". See `site_of`.
    """
    batch = list(documents)
    repeated = repeated_lines(((text, site) for text, _, site in batch), min_repeats)
    return [clean(text, metadata=metadata, threshold=threshold, repeated=repeated.get(site, frozenset()))
            for text, metadata, site in batch]


def removed_by_rule(documents: Iterable[CleanedDocument]) -> dict[str, int]:
    """How many lines each rule removed across `documents`, for auditing a run."""
    counts: dict[str, int] = {}
    for document in documents:
        for line in document.removed:
            counts[line.rule] = counts.get(line.rule, 0) + 1
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))


class CleanStage(Stage[RawDocument, CleanedRecord]):
    """`clean` over a batch; lines repeated across the batch's pages of one site count as boilerplate.

    Only documents with a url are grouped by site (a folder of files is no site). Documents already in
    the output (`already_done`) count towards the repetition too, so that a page cleans the same in a
    first run and in a rerun, but are left out. `threshold` and `min_repeats` are those of `clean` and
    `repeated_lines` (the run settings body_threshold and site_repeats).
    """

    name = "clean"

    def __init__(self, already_done: Callable[[RawDocument], bool] | None = None, *,
                 threshold: float = BODY_THRESHOLD, min_repeats: int = MIN_SITE_REPEATS):
        super().__init__()
        self.already_done = already_done
        self.threshold = threshold
        self.min_repeats = min_repeats
        self._repeated: dict[str, frozenset[str]] = {}

    def begin_batch(self, batch: Sequence[RawDocument]) -> None:
        self._repeated = repeated_lines(
            ((raw.text, site) for raw in batch if (site := site_of(raw.metadata))), self.min_repeats)

    def process(self, batch: Sequence[RawDocument]) -> list[CleanedRecord | Reject | None]:
        results: list[CleanedRecord | Reject | None] = []
        for raw in batch:
            if self.already_done is not None and self.already_done(raw):
                results.append(None)
                continue
            document = clean(raw.text, metadata=raw.metadata, threshold=self.threshold,
                             repeated=self._repeated.get(site_of(raw.metadata), frozenset()))
            if document.paragraphs:
                results.append(CleanedRecord(raw, document))
            else:
                reason = (f"nothing left after cleaning ({document.n_boilerplate_removed} boilerplate lines "
                          "removed)")
                results.append(Reject(raw.source_path, RejectReason.NO_TEXT, reason, raw.source_record,
                                      raw.record_id))
        return results

    def describe(self, outputs: Sequence[CleanedRecord]) -> str:
        return f"{len(outputs)} with text"
