"""Drives `roster serve`'s dashboard in headless Chromium (Selenium with Debian's chromedriver) as a
user would: signs in with the token, reads the overview, filters the gaps, opens a gap by
clicking it. Takes a screenshot of each page into OUT_DIR and prints what it saw as JSON, for
tests/serve.rs to assert.

    python browse_dashboard.py BASE_URL TOKEN OUT_DIR
"""

import json
import os
import sys

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait

base, token, out = sys.argv[1], sys.argv[2], sys.argv[3]
opts = webdriver.ChromeOptions()
opts.binary_location = os.environ.get("ROSTER_CHROMIUM_BINARY", "/usr/bin/chromium")
for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,1200"):
    opts.add_argument(a)
# Debian's chromedriver, matching Debian's chromium: Selenium Manager never downloads anything.
service = Service(executable_path=os.environ.get("ROSTER_CHROMEDRIVER", "/usr/bin/chromedriver"))
driver = webdriver.Chrome(options=opts, service=service)
driver.set_page_load_timeout(30)
seen = {"console": []}


def shot(name):
    path = os.path.join(out, name + ".png")
    driver.save_screenshot(path)
    return path


def rows():
    return [r.get_attribute("data-gap") for r in driver.find_elements(By.CSS_SELECTOR, "table.gaps tbody tr")]


try:
    # Without the session: the sign-in form.
    driver.get(base + "/gaps")
    seen["login_title"] = driver.title
    field = driver.find_element(By.ID, "token")
    field.send_keys(token)
    field.submit()
    WebDriverWait(driver, 15).until(EC.presence_of_element_located((By.ID, "count")))
    # Back on the page asked for, signed in. The browser logged the 401 of the first visit:
    # from here on, nothing should fail.
    driver.get_log("browser")
    seen["after_login_url"] = driver.current_url
    seen["all_gaps"] = rows()
    seen["count_text"] = driver.find_element(By.ID, "count").text
    shot("gaps")

    driver.get(base + "/")
    seen["overview_h1"] = driver.find_element(By.TAG_NAME, "h1").text
    seen["overview_cards"] = [c.text for c in driver.find_elements(By.CSS_SELECTOR, ".cards .card")]
    seen["chart_bars"] = len(driver.find_elements(By.CSS_SELECTOR, "svg.chart rect"))
    shot("overview")

    # A filter changes what is listed.
    driver.get(base + "/gaps")
    Select(driver.find_element(By.ID, "f-min_severity")).select_by_value("critical")
    driver.find_element(By.ID, "apply").click()
    WebDriverWait(driver, 15).until(EC.url_contains("min_severity=critical"))
    WebDriverWait(driver, 15).until(EC.presence_of_element_located((By.ID, "count")))
    seen["filtered_url"] = driver.current_url
    seen["critical_gaps"] = rows()
    seen["critical_badges"] = [b.text for b in driver.find_elements(By.CSS_SELECTOR, "table.gaps tbody .sev")]
    shot("gaps-critical")

    # A gap's page, reached by a click.
    link = driver.find_element(By.CSS_SELECTOR, "table.gaps tbody a.gap-link")
    seen["clicked_title"] = link.text
    link.click()
    WebDriverWait(driver, 15).until(EC.presence_of_element_located((By.ID, "gap-title")))
    seen["gap_url"] = driver.current_url
    seen["gap_h1"] = driver.find_element(By.ID, "gap-title").text
    seen["gap_evidence"] = [li.text for li in driver.find_elements(By.CSS_SELECTOR, "ol.evidence li")]
    seen["gap_sections"] = [h.text for h in driver.find_elements(By.TAG_NAME, "h2")]
    shot("gap")

    driver.get(base + "/owners")
    seen["owners_rows"] = len(driver.find_elements(By.CSS_SELECTOR, "table tbody tr"))
    driver.get(base + "/inventory?q=bot")
    seen["inventory_h2"] = [h.text for h in driver.find_elements(By.TAG_NAME, "h2")]
    shot("inventory")
    driver.get(base + "/runs")
    seen["runs_rows"] = len(driver.find_elements(By.CSS_SELECTOR, "table tbody tr"))
    # What the browser refused (CSP violations, missing assets) shows in its log.
    try:
        seen["console"] = [e["message"] for e in driver.get_log("browser") if e.get("level") == "SEVERE"]
    except Exception as e:  # a driver without log access
        seen["console"] = ["cannot read the browser log: %s" % e]
finally:
    driver.quit()
print(json.dumps(seen))
