"""The rule classifier: actionable or not, sentiment with negation and emoji, language, topic,
urgency flags, and the promises of its public interface (cheap import, evidence, bounds)."""
import json
import subprocess
import sys

import pytest

from chalicelib.classify import TOPICS, URGENCY_FLAGS, Classification, classify

# (language, help request, praise)
HELP_AND_PRAISE = [
    ("en", "@NordlightShop where is my refund? I returned the headphones three weeks ago",
     "Thanks @NordlightShop, super fast delivery and the speaker sounds great 😍"),
    ("en", "My flight was cancelled and nobody at the gate can help. How do I rebook?",
     "Lovely crew on the Rhodes flight this morning, thank you!"),
    ("fi", "Tilaukseni ei ole vieläkään saapunut. Milloin se tulee?",
     "Kiitos nopeasta toimituksesta, kaikki toimii hyvin!"),
    ("fi", "Kuulokkeet hajosivat viikossa, haluan rahat takaisin",
     "Paras verkkokauppa, aina nopea toimitus!"),
    ("el", "Η παραγγελία μου δεν έχει έρθει ακόμα. Πότε θα την παραλάβω;",
     "Ευχαριστώ πολύ, όλα ήταν τέλεια!"),
    ("el", "Το κινητό δεν φορτίζει, θέλω αντικατάσταση",
     "Υπέροχη πτήση και πολύ ευγενικό πλήρωμα"),
    ("zh", "我的订单为什么还没到？", "谢谢，耳机音质非常好！"),
    ("zh", "充电器坏了，请帮我换一个", "东西很好，物流也很快，好评"),
    ("ar", "لم يصل طلبي حتى الآن، متى سيصل؟", "شكرا لكم، خدمة ممتازة"),
    ("ar", "التطبيق لا يعمل ولا أستطيع الدخول إلى حسابي", "تجربة رائعة، الطاقم محترف جداً"),
    ("pl", "Zamówienie nadal nie dotarło, kiedy mogę się go spodziewać?", "Dziękuję, wszystko super!"),
    ("pl", "Słuchawki przestały działać po tygodniu, proszę o zwrot pieniędzy",
     "Telewizor dotarł w dwa dni, wszystko działa świetnie. Polecam!"),
]


@pytest.mark.parametrize("lang,help_text,praise_text", HELP_AND_PRAISE)
def test_help_request_is_actionable_and_praise_is_not(lang, help_text, praise_text):
    help_c = classify(help_text)
    assert help_c.actionable, help_c.evidence
    assert help_c.language == lang
    assert help_c.actionable_confidence >= 0.5
    assert any(e.startswith("help:") for e in help_c.evidence)

    praise_c = classify(praise_text)
    assert not praise_c.actionable, praise_c.evidence
    assert praise_c.language == lang
    assert praise_c.sentiment == "positive"
    assert praise_c.topic == "praise"


@pytest.mark.parametrize("lang,text", [
    ("de", "Meine Bestellung ist immer noch nicht angekommen, wo bleibt sie?"),
    ("fr", "Ma commande n'est toujours pas arrivée, pouvez-vous vérifier ?"),
    ("es", "Mi pedido llegó roto, quiero un reembolso"),
    ("pt", "Meu pedido não chegou ainda, preciso de ajuda"),
    ("it", "Il mio ordine non è ancora arrivato, potete aiutarmi?"),
])
def test_lighter_languages_have_help_cues(lang, text):
    c = classify(text)
    assert c.language == lang
    assert c.actionable, c.evidence


@pytest.mark.parametrize("lang,positive,negated", [
    ("en", "the service was good", "the service was not good"),
    ("fi", "palvelu oli hyvä", "palvelu ei ollut hyvä"),
    ("el", "η εξυπηρέτηση ήταν καλή", "η εξυπηρέτηση δεν ήταν καλή"),
    ("zh", "我喜欢这个耳机", "我不喜欢这个耳机"),
    ("ar", "الخدمة جيدة", "الخدمة ليست جيدة"),
    ("ar", "المنتج جيد", "المنتج لا جيد"),
    ("pl", "obsługa jest dobra", "obsługa nie jest dobra"),
])
def test_negation_flips_sentiment(lang, positive, negated):
    pos = classify(positive, language_hint=lang)
    neg = classify(negated, language_hint=lang)
    assert pos.sentiment == "positive", pos.evidence
    assert neg.sentiment == "negative", neg.evidence
    assert neg.sentiment_score < 0 < pos.sentiment_score


def test_negated_negative_word_turns_positive():
    c = classify("honestly the delivery was not bad at all")
    assert c.sentiment_score > 0
    assert "pos:en:'not bad'" in c.evidence


def test_negation_is_recorded_in_evidence():
    assert "neg:fi:'ei hyvä'" in classify("ei hyvä").evidence
    assert any(e.startswith("neg:zh:'不喜欢") for e in classify("不喜欢").evidence)


def test_negated_complaint_cue_does_not_fire():
    assert "help:en:'problem'" not in classify("no problem, all sorted").evidence
    assert any(e.startswith("negated:en:") for e in classify("no problem, all sorted").evidence)


def test_conditional_negation_is_not_a_negation():
    c = classify("if you don't fix my problem I will go elsewhere")
    assert "help:en:'problem'" in c.evidence
    assert c.actionable


def test_repeated_word_counts_at_each_place_with_its_own_negation():
    c = classify("The screen is good but the battery is not good")
    assert c.sentiment == "negative", c.evidence
    assert "pos:en:'good'" in c.evidence and "neg:en:'not good'" in c.evidence


def test_contrast_weighs_the_clause_after_but():
    c = classify("Thanks for the quick reply but my order is still missing")
    assert c.sentiment == "negative", c.evidence
    assert c.actionable


@pytest.mark.parametrize("text", ["😡", "😠", "👎", "😞", ":(", ":-(", "my order 😡😡", "again :("])
def test_negative_emoji_and_emoticons(text):
    c = classify(text)
    assert c.sentiment == "negative", c.evidence
    assert any(e.startswith(("neg:emoji:", "neg:emoticon:")) for e in c.evidence)


@pytest.mark.parametrize("text", ["😍", "👍", "❤️", "❤", ":)", ":-)", ":D", "<3", "new speaker 😍👍"])
def test_positive_emoji_and_emoticons(text):
    c = classify(text)
    assert c.sentiment == "positive", c.evidence
    assert any(e.startswith(("pos:emoji:", "pos:emoticon:")) for e in c.evidence)


def test_emoji_with_skin_tone_or_variation_selector_still_counts():
    assert classify("👍🏽").sentiment == "positive"
    assert classify("\u2764\ufe0f").sentiment == "positive"


def test_praying_hands_is_mildly_positive_and_a_weak_request():
    c = classify("🙏")
    assert c.sentiment_score > 0
    assert "pos:emoji:'🙏'" in c.evidence


@pytest.mark.parametrize("text,lang", [
    ("Πότε θα έρθει;", "el"),                 # ASCII semicolon used as the Greek question mark
    ("Πότε θα έρθει\u037e", "el"),            # U+037E GREEK QUESTION MARK (NFKC → ';')
    ("متى سيصل؟", "ar"),                     # Arabic question mark
    ("什么时候到？", "zh"),                    # full-width question mark
    ("arrives when?", "en"),
])
def test_question_marks_are_cues(text, lang):
    c = classify(text)
    assert c.language == lang
    assert "help:qmark:'?'" in c.evidence


def test_semicolon_in_latin_text_is_not_a_question_mark():
    assert "help:qmark:'?'" not in classify("I love it; thanks").evidence


def test_greek_semicolon_question_alone_makes_a_question_actionable():
    c = classify("Έχετε διαθέσιμο το Lumo 65 σε μαύρο χρώμα;")
    assert c.actionable, c.evidence


@pytest.mark.parametrize("text,lang", [
    ("Η πτήση μου καθυστερεί", "el"),
    ("الطلب لم يصل", "ar"),
    ("我的订单还没到", "zh"),
    ("注文した商品がまだ届きません", "ja"),
    ("주문한 상품이 아직 도착하지 않았어요", "ko"),
    ("Мой заказ до сих пор не пришёл", "ru"),
    ("Моє замовлення досі не прийшло, і що робити", "uk"),
    ("मेरा ऑर्डर अभी तक नहीं आया", "hi"),
    ("@NordlightShop 订单呢", "zh"),  # a Latin handle does not make it English
])
def test_script_based_languages(text, lang):
    c = classify(text)
    assert c.language == lang
    assert any(e.startswith("lang:script:") for e in c.evidence)


@pytest.mark.parametrize("text,lang", [
    ("Where is my order? It was supposed to arrive yesterday", "en"),
    ("Missä tilaukseni on? Sen piti tulla eilen", "fi"),
    ("Gdzie jest moje zamówienie? Miało przyjść wczoraj", "pl"),
    ("Wo ist meine Bestellung? Sie sollte gestern ankommen", "de"),
    ("Où est ma commande ? Elle devait arriver hier", "fr"),
    ("¿Dónde está mi pedido? Tenía que llegar ayer", "es"),
    ("Onde está o meu pedido? Era para chegar ontem", "pt"),
    ("Dov'è il mio ordine? Doveva arrivare ieri", "it"),
    ("Var är min beställning? Den skulle komma igår", "sv"),
    ("Waar is mijn bestelling? Die zou gisteren komen", "nl"),
    ("Siparişim nerede? Dün gelmesi gerekiyordu", "tr"),
])
def test_latin_script_languages_by_stopwords_and_diacritics(text, lang):
    c = classify(text)
    assert c.language == lang, c.evidence


def test_language_hint_decides_when_the_text_cannot():
    assert classify("ok", language_hint="fi").language == "fi"
    assert classify("👍", language_hint="en-GB").language == "en"
    assert classify("ok").language is None
    assert classify("", language_hint="und").language is None


def test_language_hint_is_normalised_and_respected_for_han_text():
    assert classify("订单", language_hint="zh-TW").language == "zh"
    assert classify("注文", language_hint="ja").language == "ja"


def test_script_beats_a_wrong_hint():
    assert classify("Η παραγγελία μου δεν ήρθε", language_hint="en").language == "el"


def test_text_is_nfkc_normalised_and_lowercased():
    c = classify("ＷＨＥＲＥ ＩＳ ＭＹ ＲＥＦＵＮＤ？")
    assert c.actionable
    assert "help:en:'refund'" in c.evidence
    assert "help:qmark:'?'" in c.evidence


def test_curly_apostrophes_are_normalised():
    c = classify("It doesn\u2019t work and I can\u2019t log in")
    assert "help:en:'doesn't work'" in c.evidence
    assert "help:en:'can't log in'" in c.evidence


def test_urls_and_handles_are_ignored():
    c = classify("@refund_bot https://example.com/help?refund=1")
    assert not any(e.startswith("help:") for e in c.evidence)
    assert not c.actionable


def test_chinese_matches_substrings_without_spaces():
    c = classify("我的行李在雅典丢了请尽快处理")
    assert c.language == "zh"
    assert "help:zh:'丢了'" in c.evidence
    assert "urgent" in c.urgency
    assert c.topic == "delivery"


def test_chinese_longest_phrase_wins_over_its_parts():
    assert classify("不错").sentiment == "positive"          # 不错 = "not bad" = good
    assert classify("不好意思，请问").sentiment == "neutral"   # 不好意思 = "excuse me"


def test_arabic_proclitics_are_matched():
    c = classify("والتطبيق لا يعمل")
    assert "outage" in c.urgency
    assert c.actionable


def test_folded_languages_match_without_diacritics():
    assert classify("aplikacja nie dziala, pomocy").actionable            # Polish w/o ą ł
    assert "outage" in classify("aplikacja nie dziala").urgency
    assert classify("δεν λειτουργει η εφαρμογη").actionable               # Greek w/o tonos
    assert classify("la aplicacion no funciona, necesito ayuda").actionable


@pytest.mark.parametrize("flag,text", [
    ("outage", "Is the site down? Getting a 503 on every page"),
    ("outage", "Sovellus ei toimi, onko käyttökatko?"),
    ("outage", "网站又崩了"),
    ("outage", "awaria aplikacji od rana"),
    ("safety", "My power bank is overheating and I can smell burning"),
    ("safety", "Η μπαταρία φούσκωσε και βγάζει καπνό"),
    ("safety", "充电宝冒烟了"),
    ("safety", "البطارية منتفخة وتخرج دخان"),
    ("legal", "If this isn't refunded by Friday my lawyer will be in touch"),
    ("legal", "Vien asian kuluttajariitalautakuntaan"),
    ("legal", "Sprawa trafi do sądu"),
    ("legal", "再不处理我就找律师"),
    ("churn", "Never again. Cancel my account, I'm switching to a competitor"),
    ("churn", "Τελευταία φορά που ψωνίζω από εσάς"),
    ("churn", "هذه آخر مرة أشتري منكم"),
    ("churn", "Nigdy więcej tu nie kupię"),
    ("urgent", "URGENT: my flight is in 2 hours and I have no boarding pass"),
    ("urgent", "Tarvitsen apua heti"),
    ("urgent", "请马上处理"),
    ("urgent", "Pilne! Proszę o kontakt"),
    ("repeated_contact", "This is the third time I'm writing about this order"),
    ("repeated_contact", "Περιμένω ακόμα απάντηση εδώ και μέρες"),
    ("repeated_contact", "ما زلت أنتظر الرد منذ أسبوع"),
    ("repeated_contact", "Kirjoitin jo kolmannen kerran"),
])
def test_urgency_flags(flag, text):
    c = classify(text)
    assert flag in c.urgency, c.evidence
    assert any(e.startswith(f"flag:{flag}:") for e in c.evidence)
    assert c.actionable


def test_urgency_flags_are_named_and_ordered():
    c = classify("URGENT: the charger is smoking, third time I report it, my lawyer knows")
    assert c.urgency == [f for f in URGENCY_FLAGS if f in c.urgency]
    assert {"safety", "urgent", "legal", "repeated_contact"} <= set(c.urgency)


def test_no_urgency_in_plain_praise():
    assert classify("Great headphones, thank you!").urgency == []


@pytest.mark.parametrize("text,topic", [
    ("I was charged twice for my order, please fix the payment", "billing"),
    ("Where is my refund?", "refund"),
    ("I can't log in, password reset email never arrives", "account"),
    ("The parcel tracking hasn't moved in a week, where is my package?", "delivery"),
    ("The app keeps crashing after the firmware update", "technical"),
    ("Is the Lumo 65 compatible with a wall mount? Is it in stock?", "product_question"),
    ("Customer service is rude and nobody answers the chat", "service_complaint"),
    ("Thank you, you are the best!", "praise"),
    ("Hello there", "other"),
    ("Tilasin uuden puhelimen, missä tilaus on?", "order"),
    ("信用卡被扣了两次款", "billing"),
    ("Χάθηκε η βαλίτσα μου", "delivery"),
])
def test_topics(text, topic):
    c = classify(text)
    assert c.topic == topic, c.evidence
    assert c.topic in TOPICS


def test_chatter_is_not_actionable():
    for text in ("Watching the match on my new Nordlight projector tonight",
                 "Lähdössä lomalle Kreikkaan huomenna",
                 "Nordlight have a sale on this weekend apparently"):
        c = classify(text)
        assert not c.actionable, (text, c.evidence)
        assert c.sentiment != "negative"


def test_empty_and_whitespace_text():
    for text in ("", "   ", None):
        c = classify(text)  # type: ignore[arg-type]
        assert not c.actionable
        assert c.sentiment == "neutral"
        assert c.sentiment_score == 0
        assert c.topic == "other"
        assert c.urgency == []


def test_long_text_is_bounded_in_time_and_evidence():
    c = classify("where is my order? " * 5000)
    assert c.actionable
    assert len(c.evidence) <= 60
    assert c.evidence[-1].startswith("more:")


def test_classification_is_bounded_and_serialisable():
    c = classify("URGENT!!! worst service ever 😡😡😡 my lawyer will sue, never again, the app is down")
    assert isinstance(c, Classification)
    assert 0.0 <= c.actionable_confidence <= 1.0
    assert -1.0 <= c.sentiment_score <= 1.0
    assert c.sentiment == "negative"
    again = Classification.model_validate_json(c.model_dump_json())
    assert again == c


def test_evidence_format():
    c = classify("refund please, the product is huono", language_hint="en")
    assert "help:en:'refund'" in c.evidence
    c = classify("Tuote on huono ja palautus ei onnistu")
    assert "neg:fi:'huono'" in c.evidence


def test_import_is_cheap_rules_load_on_first_use():
    code = ("import sys, json; import chalicelib.classify as c; "
            "before = sorted(m for m in sys.modules if m.startswith('chalicelib.classify.')); "
            "c.classify('where is my order'); "
            "from chalicelib.classify import matcher; "
            "print(json.dumps({'before': before, 'numpy': 'numpy' in sys.modules, "
            "'boto3': 'boto3' in sys.modules, 'compiled': matcher.compiled.cache_info().currsize}))")
    out = json.loads(subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                                    text=True).stdout)
    assert out["before"] == ["chalicelib.classify.labels"]
    assert out["numpy"] is False and out["boto3"] is False
    assert out["compiled"] == 1  # only the language(s) actually met get their patterns built
