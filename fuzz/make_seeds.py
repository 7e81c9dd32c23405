#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets (small documents composed for the purpose;
never copies of the shared fixtures). Run from the repository root: python3 fuzz/make_seeds.py"""
import io, os, zipfile

HEAD = ('<?xml version="1.0"?><sc:item xmlns:sc="http://www.utc.fr/ics/scenari/v3/core" '
        'xmlns:sp="http://www.utc.fr/ics/scenari/v3/primitive" xmlns:op="utc.fr:ics/opale3">'
        '<op:expUc><op:expUcM><sp:title>Weather</sp:title></op:expUcM><sp:txt><op:txt>')
TAIL = '</op:txt></sp:txt></op:expUc></sc:item>'

PARAS = {
    'p1': '<sc:para xml:space="preserve"><sc:inlineStyle role="emphasis">Open</sc:inlineStyle> the<sc:inlineStyle role="emphasis"> settings menu</sc:inlineStyle> first.</sc:para>',
    'p2': '<sc:para xml:space="preserve">Check the <sc:uLink role="glos" sc:refUri="/gloss/wind_shear.ref">wind shear</sc:uLink> forecast.</sc:para>',
    'p3': '<sc:para xml:space="preserve">Read the <sc:phrase role="url"><op:urlM xml:space="default"><sp:url>https://example.org/guide</sp:url><sp:title>Official guide</sp:title></op:urlM>online guide</sc:phrase> before class.</sc:para>',
    'p4': '<sc:para xml:space="preserve">The word <sc:inlineStyle role="spec"><op:txtM><sp:lang><op:langM><sp:code>de</sp:code></op:langM></sp:lang></op:txtM>Zeitgeist</sc:inlineStyle> has no equivalent.</sc:para>',
    'p5': '<sc:para xml:space="preserve">The area is <sc:textLeaf role="mathtex">\\pi r^2</sc:textLeaf>, about 3 m<sc:textLeaf role="exp">2</sc:textLeaf>.</sc:para>',
    'p6': '<sc:para xml:space="preserve">Water boils at <sc:textLeaf role="gap"><op:gapM><sp:options><sp:option>100</sp:option><sp:option>90</sp:option></sp:options></op:gapM>100</sc:textLeaf> degrees.</sc:para>',
    'p7': '<sc:para xml:space="preserve">Click <sc:uLink role="resLnk" sc:refUri="/img/save.png"><sc:inlineImg role="ico" sc:refUri="/img/save.png"/></sc:uLink> then <sc:inlineStyle role="emp">confirm <sc:inlineStyle role="spec">OK</sc:inlineStyle></sc:inlineStyle>.</sc:para>',
    'p8': '<sc:para xml:space="preserve">Write &lt;TITLE&gt; &amp; &quot;x&quot; &#233;&#xE9;.</sc:para>',
    'misc': '<!-- c --><sc:para xml:space="preserve"> Lead <![CDATA[a < b]]> $$name$$ trail\u00a0: </sc:para><sc:para/><sc:code mimeType="text/x-python">print(1)</sc:code><sc:itemizedList><sc:listItem><sc:para>One</sc:para></sc:listItem></sc:itemizedList>',
}

QUIZ = ('<?xml version="1.0" encoding="UTF-8"?>\n<sc:item xmlns:sc="http://www.utc.fr/ics/scenari/v3/core">\n\t'
        '<op:mcqSur xmlns:op="utc.fr:ics/opale3" xmlns:sp="http://www.utc.fr/ics/scenari/v3/primitive">\n\t\t'
        '<op:exeM><sp:title>Quiz</sp:title></op:exeM>\n\t\t<sc:question><op:res><sp:txt><op:txt><sc:para xml:space="preserve">Which?</sc:para></op:txt></sp:txt></op:res></sc:question>\n\t\t'
        '<sc:choices><sc:choice solution="checked"><sc:choiceLabel><op:txt><sc:para xml:space="preserve">This</sc:para></op:txt></sc:choiceLabel></sc:choice></sc:choices>\n\t\t'
        '<sc:solution choice="1"/><sp:asw><sc:SFSolution><sc:value>this</sc:value></sc:SFSolution></sp:asw>\n\t</op:mcqSur>\n</sc:item>')
META = ('<?xml version="1.0"?><sfm:png xmlns:sfm="http://www.utc.fr/ics/scenari/v3/filemeta" '
        'xmlns:sp="http://www.utc.fr/ics/scenari/v3/primitive" xmlns:op="utc.fr:ics/opale3">'
        '<op:imgM><sp:title>A map</sp:title><sp:alt><sp:type>info</sp:type><sp:altTxt>Map</sp:altTxt></sp:alt></op:imgM></sfm:png>')
PUBLI = ('<?xml version="1.0"?><sc:item xmlns:sc="http://www.utc.fr/ics/scenari/v3/core" '
         'xmlns:sp="http://www.utc.fr/ics/scenari/v3/primitive" xmlns:op="utc.fr:ics/opale3"><op:webRoot><op:webRootM>'
         '<sp:version>1</sp:version><sp:settings><sp:glos>yes</sp:glos></sp:settings><sp:mystery>x y</sp:mystery>'
         '</op:webRootM><sp:ue sc:refUri="/m.xml"/></op:webRoot></sc:item>')

def write(target, name, data):
    os.makedirs(f'fuzz/corpus/{target}', exist_ok=True)
    with open(f'fuzz/corpus/{target}/{name}', 'wb') as f:
        f.write(data)

items = {f'{k}.xml': (HEAD + v + TAIL).encode() for k, v in PARAS.items()}
items['quiz.quiz'] = QUIZ.encode()
items['meta.xml'] = META.encode()
items['web.publi'] = PUBLI.encode()
items['latin1.xml'] = ('<?xml version="1.0" encoding="ISO-8859-1"?><sc:item xmlns:sc="http://www.utc.fr/ics/scenari/v3/core"><sc:para>Caf\u00e9</sc:para></sc:item>').encode('latin-1')
items['bom.xml'] = b'\xef\xbb\xbf' + (HEAD + PARAS['p1'] + TAIL).encode()
items['doctype.xml'] = b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x "y">]><sc:item xmlns:sc="http://www.utc.fr/ics/scenari/v3/core"><sc:para>&x;</sc:para></sc:item>'
items['mismatch.xml'] = (HEAD + '<sc:para>a</sc:phrase>' + TAIL).encode()
for name, data in items.items():
    write('scenari_xml', name, data)

def zip_bytes(entries, method=zipfile.ZIP_DEFLATED):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, 'w', method) as z:
        for name, data, m in entries:
            info = zipfile.ZipInfo(name, date_time=(2014, 12, 21, 10, 30, 0))
            info.compress_type = m
            z.writestr(info, data)
    return buf.getvalue()

WSPMETA = b'<wspType key="Opale3-5" lang="fr-FR" version="3.5.005"/>'
D, S = zipfile.ZIP_DEFLATED, zipfile.ZIP_STORED
write('archive', 'scar.scar', zip_bytes([('.wspmeta', WSPMETA, D), ('&/', b'', S), ('&/qcu.quiz', QUIZ.encode(), D), ('root.xml', items['p3.xml'], D)]))
write('archive', 'stored.zip', zip_bytes([('mimetype', b'application/x-scenari', S), ('a.xml', items['p7.xml'], S), ('img.png/meta.xml', META.encode(), S), ('img.png/img.png', b'\x89PNG\r\n\x1a\n', S)]))
write('archive', 'gen.zip', zip_bytes([('~gen/index.html', b'<html/>', D), ('doc/p5.xml', items['p5.xml'], D), ('notes.txt', b'hello', D)]))
write('archive', 'slip.zip', zip_bytes([('../evil.xml', items['p1.xml'], D)]))
write('archive', 'malformed_entry.zip', zip_bytes([('bad.xml', items['mismatch.xml'], D)]))
write('archive', 'empty.zip', zip_bytes([]))
